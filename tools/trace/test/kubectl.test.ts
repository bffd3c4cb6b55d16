/**
 * `pnpm trace <id> --kubectl`, against a stand-in `kubectl` first on PATH that replays what a cluster
 * answers in the middle of a rollout: a running gateway, a worker that restarted (its previous run
 * holds half the journey), a pod still creating, one not yet scheduled, and one gone since the list.
 */
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runTrace } from "./run-trace.js";

const standIn = fileURLToPath(new URL("stand-in/", import.meta.url));
const id = "try-ward-1";
const start = Date.parse("2026-03-02T10:15:04.100Z");
const selector = (release: string) =>
  `app.kubernetes.io/part-of=ward,app.kubernetes.io/instance=${release},app.kubernetes.io/component in (gateway,worker)`;

function line(service: string, ms: number, event: string, correlationId = id): string {
  const record = { ts: new Date(start + ms).toISOString(), level: "info", service, event };
  return `${JSON.stringify({ ...record, correlation_id: correlationId })}\n`;
}

const gatewayLog = [
  line("gateway", 0, "request_started"),
  line("gateway", 2, "request_started", "someone-else"),
  line("gateway", 15, "outbound_request"),
  line("gateway", 18, "request_completed"),
].join("");
// The worker queued and started the job, was OOM-killed, and delivered it after its restart.
const workerBeforeRestart = [line("worker", 10, "job_enqueued"), line("worker", 20, "job_started")].join("");
const workerAfterRestart = [
  line("worker", 1000, "job_started"),
  line("worker", 1100, "webhook_delivered"),
  line("worker", 1110, "job_completed"),
].join("");

/** What the cluster answers, by kubectl command line; flags are those of `--context kind-ward -n shop`. */
async function clusterAnswers(): Promise<
  Record<string, { stdout?: string; stderr?: string; code?: number }>
> {
  const pods = await readFile(join(standIn, "pods.json"), "utf8");
  const at = "--context kind-ward --namespace shop";
  const waiting = (pod: string, container: string) => ({
    stderr: `Error from server (BadRequest): container "${container}" in pod "${pod}" is waiting to start: ContainerCreating\n`,
    code: 1,
  });
  return {
    [`${at} get pods --selector ${selector("shop")} --output json`]: { stdout: pods },
    [`--namespace ward get pods --selector ${selector("ward")} --output json`]: {
      stdout: '{"apiVersion":"v1","kind":"List","items":[]}',
    },
    [`--context nowhere get pods --selector ${selector("ward")} --output json`]: {
      stderr: 'error: context "nowhere" does not exist\n',
      code: 1,
    },
    [`${at} logs ward-gateway-7d9c6b5f4-abcde --container gateway`]: { stdout: gatewayLog },
    [`${at} logs ward-worker-5c8f7d9b6-qrstu --container worker --previous`]: { stdout: workerBeforeRestart },
    [`${at} logs ward-worker-5c8f7d9b6-qrstu --container worker`]: { stdout: workerAfterRestart },
    [`${at} logs ward-worker-6f9d8c7b5-new12 --container worker`]: waiting(
      "ward-worker-6f9d8c7b5-new12",
      "worker",
    ),
    [`${at} logs ward-gateway-84c7f6d9b-sched --container gateway`]: waiting(
      "ward-gateway-84c7f6d9b-sched",
      "gateway",
    ),
    [`${at} logs ward-gateway-7d9c6b5f4-gone1 --container gateway`]: {
      stderr: 'Error from server (NotFound): pods "ward-gateway-7d9c6b5f4-gone1" not found\n',
      code: 1,
    },
  };
}

let dir: string;
let env: Record<string, string>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "trace-kubectl-"));
  const bin = join(dir, "bin");
  const answers = join(dir, "answers.json");
  await writeFile(answers, JSON.stringify(await clusterAnswers()));
  await mkdir(bin);
  const kubectl = join(bin, "kubectl");
  await writeFile(kubectl, `#!/bin/sh\nexec "${process.execPath}" "${join(standIn, "kubectl.js")}" "$@"\n`);
  await chmod(kubectl, 0o755);
  env = { PATH: `${bin}${delimiter}${process.env.PATH ?? ""}`, STAND_IN_ANSWERS: answers };
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const events = (stdout: string) =>
  stdout
    .split("\n")
    .filter((row) => /^\s*\+\d+ ms/.test(row))
    .map((row) => /(\S+)\s+\S+\s+(?:⇢ )?(\w+)\s*/.exec(row.replace(/^\s*\+\d+ ms\s+\S+\s+/, ""))?.[2]);

describe("pnpm trace <id> --kubectl during a rollout", () => {
  let run: Awaited<ReturnType<typeof runTrace>>;

  beforeAll(async () => {
    run = await runTrace([id, "--kubectl", "-n", "shop", "--release", "shop", "--context", "kind-ward"], {
      env,
    });
  });

  it("traces the merged lines of every pod, the restarted container's previous run included", () => {
    expect(run.code).toBe(0);
    expect(events(run.stdout)).toEqual([
      "request_started",
      "job_enqueued",
      "outbound_request",
      "request_completed",
      "job_started",
      "job_started",
      "webhook_delivered",
      "job_completed",
    ]);
    expect(run.stdout.trimEnd().split("\n").at(-1)).toBe("8 lines · gateway → worker · 1.11 s · 0 errors");
  });

  it("shows which pod wrote each line", () => {
    expect(run.stdout).toMatch(/gateway +ward-gateway-7d9c6b5f4-abcde +info +request_started/);
    expect(run.stdout).toMatch(/worker +ward-worker-5c8f7d9b6-qrstu +info +⇢ job_completed/);
  });

  it("notes each pod it could not read instead of stopping there", () => {
    expect(run.stderr.trimEnd().split("\n")).toEqual([
      "trace: ward-worker-6f9d8c7b5-new12/worker: no logs yet (ContainerCreating)",
      "trace: ward-gateway-84c7f6d9b-sched/gateway: no logs yet (Pending)",
      'trace: ward-gateway-7d9c6b5f4-gone1/gateway: Error from server (NotFound): pods "ward-gateway-7d9c6b5f4-gone1" not found',
    ]);
  });
});

describe("pnpm trace <id> --kubectl", () => {
  it("reads release ward in the namespace given, on the current context, by default", async () => {
    const { code, stdout, stderr } = await runTrace([id, "--kubectl", "-n", "ward"], { env });
    expect({ code, stdout }).toEqual({ code: 1, stdout: "" });
    expect(stderr.trimEnd().split("\n")).toEqual([
      "trace: no gateway or worker pods of release ward in namespace ward",
      `no log line carries correlation id ${id}`,
    ]);
  });

  it("exits 2 with kubectl's own error when it cannot list the pods", async () => {
    const { code, stdout, stderr } = await runTrace([id, "--kubectl", "--context", "nowhere"], { env });
    expect({ code, stdout }).toEqual({ code: 2, stdout: "" });
    expect(stderr.trim()).toBe(
      'trace: cannot read kubectl get pods: error: context "nowhere" does not exist',
    );
  });

  it("exits 2 when kubectl is not installed", async () => {
    const { code, stderr } = await runTrace([id, "--kubectl"], { env: { PATH: dir } });
    expect(code).toBe(2);
    expect(stderr.trim()).toBe("trace: cannot read kubectl: not found on PATH");
  });
});

describe("pnpm trace's command line", () => {
  it("prints its usage, --kubectl included, for --help", async () => {
    const { code, stdout } = await runTrace(["--help"]);
    expect(code).toBe(0);
    expect(stdout).toContain(
      "pnpm trace <correlation-id> --kubectl [-n NAMESPACE] [--release NAME] [--context CONTEXT]",
    );
  });

  it.each([
    [["--verbose", id], "trace: Unknown option '--verbose' (pnpm trace --help shows the usage)"],
    [
      [id, "--kubectl", "gateway.log"],
      "trace: --kubectl reads the cluster, not files or stdin (pnpm trace --help shows the usage)",
    ],
    [[id, "-n", "ward"], "trace: --namespace needs --kubectl (pnpm trace --help shows the usage)"],
  ])("refuses %j in one line, exit 2", async (args, message) => {
    const { code, stdout, stderr } = await runTrace(args, { env });
    expect({ code, stdout, stderr }).toEqual({ code: 2, stdout: "", stderr: `${message}\n` });
  });
});
