import { createWriteStream } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createLogger } from "@ward/shared/logging";
import { withCorrelation } from "@ward/shared/correlation";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runTrace } from "./run-trace.js";

const id = "7f3c2a9e-4b1d-4c8a-9e2f-0a1b2c3d4e5f";
const otherId = "b2e14c70-95aa-4f0e-8d1c-6e7f8a9b0c1d";
const start = Date.parse("2026-03-02T10:15:04.100Z");

const gatewayPod = "ward-gateway-7d9c6b5f4-abcde";
const workerPod = "ward-worker-5c8f7d9b6-qrstu";
const consumerPod = "ward-worker-5c8f7d9b6-vwxyz";

interface Entry {
  pod: string;
  service: "gateway" | "worker";
  json: string;
}

function entry(pod: string, ms: number, event: string, fields: Record<string, unknown> = {}): Entry {
  const service = pod.startsWith("ward-gateway") ? "gateway" : "worker";
  const line = {
    ts: new Date(start + ms).toISOString(),
    level: "info",
    service,
    version: "0.1.0",
    env: "production",
    event,
    correlation_id: id,
    ...fields,
  };
  return { pod, service, json: JSON.stringify(line) };
}

// One task creation: the gateway calls the worker, which queues a job that another worker
// replica delivers to the webhook on its second attempt. Another request runs alongside.
const gatewayLines = [
  entry(gatewayPod, -500, "config_loaded", { correlation_id: undefined, PORT: 8080 }),
  entry(gatewayPod, 0, "request_started", { method: "POST", path: "/api/v1/tasks", user_id: "usr_1" }),
  entry(gatewayPod, 1, "request_started", { correlation_id: otherId, method: "GET", path: "/api/v1/tasks" }),
  entry(gatewayPod, 6, "task_created", { task_id: "tsk_42" }),
  entry(gatewayPod, 6, "outbox_enqueued", { task_id: "tsk_42" }),
  entry(gatewayPod, 8, "cache_hit", { correlation_id: otherId }),
  entry(gatewayPod, 15, "outbound_request", {
    method: "POST",
    target: "http://ward-worker:8081",
    path: "/v1/notifications",
    status_code: 202,
    duration_ms: 7.3,
  }),
  entry(gatewayPod, 16, "outbox_delivered", { task_id: "tsk_42" }),
  entry(gatewayPod, 18, "request_completed", {
    method: "POST",
    path: "/api/v1/tasks",
    status_code: 201,
    duration_ms: 18,
  }),
];
const acceptingWorkerLines = [
  entry(workerPod, 9, "request_started", { method: "POST", path: "/v1/notifications" }),
  entry(workerPod, 12, "notification_accepted", { notification_id: "ntf_7", task_id: "tsk_42" }),
  entry(workerPod, 13, "job_enqueued", { notification_id: "ntf_7" }),
  entry(workerPod, 14, "request_completed", {
    method: "POST",
    path: "/v1/notifications",
    status_code: 202,
    duration_ms: 5,
  }),
];
const deliveringWorkerLines = [
  entry(consumerPod, 40, "job_started", { notification_id: "ntf_7", attempt: 1 }),
  entry(consumerPod, 41, "job_started", { correlation_id: otherId, notification_id: "ntf_8", attempt: 1 }),
  entry(consumerPod, 95, "job_retry_scheduled", {
    level: "warn",
    notification_id: "ntf_7",
    attempt: 1,
    err: { type: "WebhookError", message: "webhook answered 503" },
  }),
  entry(consumerPod, 1095, "job_started", { notification_id: "ntf_7", attempt: 2 }),
  entry(consumerPod, 1130, "outbound_request", {
    method: "POST",
    target: "https://hooks.example.test",
    status_code: 200,
    duration_ms: 31,
  }),
  entry(consumerPod, 1131, "webhook_delivered", { notification_id: "ntf_7" }),
  entry(consumerPod, 1132, "job_completed", { notification_id: "ntf_7", attempt: 2, duration_ms: 37 }),
];

const expectedJourney = [
  ["+0 ms", "gateway", "request_started"],
  ["+6 ms", "gateway", "task_created"],
  ["+6 ms", "gateway", "outbox_enqueued"],
  ["+9 ms", "worker", "request_started"],
  ["+12 ms", "worker", "notification_accepted"],
  ["+13 ms", "worker", "job_enqueued"],
  ["+14 ms", "worker", "request_completed"],
  ["+15 ms", "gateway", "outbound_request"],
  ["+16 ms", "gateway", "outbox_delivered"],
  ["+18 ms", "gateway", "request_completed"],
  ["+40 ms", "worker", "job_started"],
  ["+95 ms", "worker", "job_retry_scheduled"],
  ["+1095 ms", "worker", "job_started"],
  ["+1130 ms", "worker", "outbound_request"],
  ["+1131 ms", "worker", "webhook_delivered"],
  ["+1132 ms", "worker", "job_completed"],
];
const expectedSummary = "16 lines · gateway → worker · 1.13 s · 0 errors";

const noise = [
  "",
  "> ward@0.1.0 start",
  "Error: something unrelated happened",
  "   at main (main.js:1:1)",
  "{ not json",
];

/** Plain JSON lines, as `kubectl logs <pod>` or a service's stdout gives them, with noise between. */
function plain(entries: Entry[]): string {
  return entries.flatMap((e, index) => [e.json, noise[index % noise.length]]).join("\n") + "\n";
}

/** What `kubectl logs --prefix --all-containers -l ...` prints: each pod's lines one pod after another. */
function kubectlPrefixed(entries: Entry[]): string {
  return (
    entries
      .flatMap((e, index) => [`[pod/${e.pod}/${e.service}] ${e.json}`, index % 3 === 0 ? "" : []])
      .join("\n") + "\n"
  );
}

/** The rows of the journey (not separators or the summary), as [offset, service, event]. */
function journeyRows(stdout: string): string[][] {
  return stdout
    .split("\n")
    .filter((row) => /^\s*\+\d+ ms/.test(row))
    .map((row) => {
      const words = row
        .trim()
        .split(/\s+/)
        .filter((word) => word !== "⇢");
      const offset = `${words[0]} ${words[1]}`;
      const hasPod = words[3]?.startsWith("ward-") ?? false;
      return [offset, words[2] ?? "", words[hasPod ? 5 : 4] ?? ""];
    });
}

let dir: string;
let gatewayLog: string;
let workerLog: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "trace-cli-"));
  gatewayLog = join(dir, "gateway.log");
  workerLog = join(dir, "worker.log");
  await writeFile(gatewayLog, plain(gatewayLines));
  await writeFile(workerLog, plain([...acceptingWorkerLines, ...deliveringWorkerLines]));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("pnpm trace <id> <files>", () => {
  it("prints the journey across both services in time order with offsets from the first line", async () => {
    const { code, stdout } = await runTrace([id, workerLog, gatewayLog]);
    expect(code).toBe(0);
    expect(journeyRows(stdout)).toEqual(expectedJourney);
  });

  it("ends with a one-line summary: lines, services in order, span, errors", async () => {
    const { stdout } = await runTrace([id, gatewayLog, workerLog]);
    expect(stdout.trimEnd().split("\n").at(-1)).toBe(expectedSummary);
  });

  it("prints none of another request's lines", async () => {
    const { stdout } = await runTrace([id, gatewayLog, workerLog]);
    expect(stdout).not.toContain("GET /api/v1/tasks");
    expect(stdout).not.toContain("ntf_8");
    expect(stdout).not.toContain("cache_hit");
  });

  it("marks each hop between services with a separator row", async () => {
    const { stdout } = await runTrace([id, gatewayLog, workerLog]);
    const separators = stdout.split("\n").filter((row) => row.includes("──"));
    expect(separators.map((row) => row.trim())).toEqual([
      "── gateway → worker",
      "── worker → gateway",
      "── gateway → worker",
    ]);
  });

  it("marks the asynchronous job lines, and only those, with ⇢", async () => {
    const { stdout } = await runTrace([id, gatewayLog, workerLog]);
    const marked = stdout.split("\n").filter((row) => row.includes("⇢"));
    expect(marked.map((row) => /⇢ (\w+)/.exec(row)?.[1])).toEqual([
      "job_enqueued",
      "job_started",
      "job_retry_scheduled",
      "job_started",
      "job_completed",
    ]);
  });

  it("shows the context of each line: request, outbound call, ids, attempt and error", async () => {
    const { stdout } = await runTrace([id, gatewayLog, workerLog]);
    expect(stdout).toMatch(/request_completed +POST \/api\/v1\/tasks 201 18 ms\n/);
    expect(stdout).toMatch(
      /outbound_request +POST \/v1\/notifications → http:\/\/ward-worker:8081 202 7\.3 ms\n/,
    );
    expect(stdout).toMatch(
      /job_retry_scheduled +notification_id=ntf_7 attempt=1 err="webhook answered 503"\n/,
    );
  });

  it("writes no colour codes into a pipe", async () => {
    const { stdout } = await runTrace([id, gatewayLog, workerLog], { env: { FORCE_COLOR: "1" } });
    expect(stdout).not.toContain("\u001b[");
  });

  it("finds files relative to the directory pnpm was run from", async () => {
    const { code, stdout } = await runTrace([id, "gateway.log"], { env: { INIT_CWD: dir } });
    expect(code).toBe(0);
    expect(stdout).toContain("6 lines · gateway · 18 ms · 0 errors");
  });
});

describe("pnpm trace <id> < kubectl logs --prefix", () => {
  const stdin = kubectlPrefixed([...gatewayLines, ...acceptingWorkerLines, ...deliveringWorkerLines]);

  it("reads stdin and puts the pods' lines in time order", async () => {
    const { code, stdout } = await runTrace([id], { stdin });
    expect(code).toBe(0);
    expect(journeyRows(stdout)).toEqual(expectedJourney);
    expect(stdout.trimEnd().split("\n").at(-1)).toBe(expectedSummary);
  });

  it("shows the pod that wrote each line", async () => {
    const { stdout } = await runTrace([id], { stdin });
    expect(stdout).toMatch(new RegExp(`\\+0 ms  gateway  ${gatewayPod}  info +request_started`));
    expect(stdout).toMatch(new RegExp(`\\+1132 ms  worker   ${consumerPod} +info  ⇢ job_completed`));
  });

  it("reads stdin for `-` alongside files", async () => {
    const { stdout } = await runTrace([id, gatewayLog, "-"], {
      stdin: kubectlPrefixed([...acceptingWorkerLines, ...deliveringWorkerLines]),
    });
    expect(journeyRows(stdout)).toEqual(expectedJourney);
  });

  it("counts error lines in the summary", async () => {
    const failed = entry(consumerPod, 12, "job_failed", { level: "error", err: { message: "gave up" } });
    const { stdout } = await runTrace([id], { stdin: kubectlPrefixed([acceptingWorkerLines[0]!, failed]) });
    expect(stdout.trimEnd().split("\n").at(-1)).toBe("2 lines · worker · 3 ms · 1 error");
  });
});

describe("pnpm trace on a large log", () => {
  it("streams a file bigger than its heap line by line", async () => {
    // ~40 MB of other requests' lines with ours scattered through; the heap is capped well below that.
    const big = join(dir, "big.log");
    function* lines() {
      for (let i = 0; i < 150_000; i++) {
        const ours = i % 30_000 === 0;
        const line = entry(i % 2 ? gatewayPod : workerPod, i, ours ? "job_started" : "request_started", {
          correlation_id: ours ? id : `other-${i}`,
          path: `/api/v1/tasks/${"x".repeat(120)}`,
        });
        yield `${line.json}\n`;
      }
    }
    await pipeline(Readable.from(lines()), createWriteStream(big));
    const { code, stdout } = await runTrace([id, big], { nodeFlags: ["--max-old-space-size=16"] });
    expect(code).toBe(0);
    expect(stdout.trimEnd().split("\n").at(-1)).toBe("5 lines · worker · 2 min 0 s · 0 errors");
  });
});

describe("pnpm trace with the services' own logger", () => {
  it("traces the lines @ward/shared/logging writes", async () => {
    const written: string[] = [];
    const destination = { write: (line: string) => void written.push(line) };
    const gateway = createLogger({ service: "gateway", version: "0.1.0", environment: "test", destination });
    const worker = createLogger({ service: "worker", version: "0.1.0", environment: "test", destination });
    const pause = () => new Promise((resolve) => setTimeout(resolve, 3));
    await withCorrelation(id, async () => {
      gateway.info({ method: "POST", path: "/api/v1/tasks" }, "request_started");
      await pause();
      worker.info({ notification_id: "ntf_7" }, "job_enqueued");
      await pause();
      gateway.info(
        { method: "POST", path: "/api/v1/tasks", status_code: 201, duration_ms: 9 },
        "request_completed",
      );
    });
    withCorrelation(otherId, () => gateway.info("request_started"));
    const { stdout } = await runTrace([id], { stdin: written.join("") });
    expect(journeyRows(stdout).map(([, service, event]) => `${service} ${event}`)).toEqual([
      "gateway request_started",
      "worker job_enqueued",
      "gateway request_completed",
    ]);
  });
});

describe("pnpm trace failures", () => {
  it("says so on stderr and exits 1 when no line carries the id", async () => {
    const { code, stdout, stderr } = await runTrace(["does-not-exist", gatewayLog, workerLog]);
    expect({ code, stdout }).toEqual({ code: 1, stdout: "" });
    expect(stderr.trim()).toBe("no log line carries correlation id does-not-exist");
  });

  it("never echoes an unsafe id raw", async () => {
    const { code, stderr } = await runTrace(["evil\u001b[2J\u001b]0;pwned\u0007"], {
      stdin: plain(gatewayLines),
    });
    expect(code).toBe(1);
    expect(stderr).not.toContain("\u001b");
    expect(stderr).toContain("evil\\u001b[2J");
  });

  it("prints the usage on stderr and exits 2 without an id", async () => {
    const { code, stdout, stderr } = await runTrace([]);
    expect({ code, stdout }).toEqual({ code: 2, stdout: "" });
    expect(stderr).toContain("usage: pnpm trace <correlation-id> [files...]");
  });

  it("names an unreadable file and exits 2", async () => {
    const missing = join(dir, "missing.log");
    const { code, stdout, stderr } = await runTrace([id, gatewayLog, missing]);
    expect({ code, stdout }).toEqual({ code: 2, stdout: "" });
    expect(stderr.trim()).toBe(`trace: cannot read ${missing}: no such file`);
  });
});
