// Hostile X-Correlation-ID values against the real built gateway and worker, sent by hand (CR/LF,
// NUL and raw UTF-8 are what no HTTP client will send): an unsafe value is replaced by a fresh
// UUID, never echoed or logged raw, never propagated to the worker or the webhook, and cannot
// break a log line or forge one.
import fc from "fast-check";
import { isValidCorrelationId } from "@ward/shared/correlation";
import { waitFor } from "@ward/shared/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startPair, type Pair } from "../support/pair.js";
import { count, runs, tallyReport } from "./support/fuzz.js";
import { httpRequest, sendRaw } from "./support/raw-http.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** What the hostile values try to make a log line say. */
const FORGED_EVENT = "forged_event";

let pair: Pair;
let ports: { gateway: number; worker: number };

beforeAll(async () => {
  pair = await startPair();
  ports = { gateway: Number(new URL(pair.gateway.url).port), worker: Number(new URL(pair.worker.url).port) };
});

afterAll(async () => {
  console.log(tallyReport("hostile X-Correlation-ID values"));
  if (pair) expect(await pair.stop()).toEqual({ gateway: 0, worker: 0 });
});

const attacks: [string, string][] = [
  ["CR LF and a header that is no header", "abc\r\nX-Injected 1"],
  ["a bare LF", "abc\nX-Injected: 1"],
  ["a bare CR", "abc\rX-Injected: 1"],
  ["a NUL", "abc\u0000def"],
  ["double quotes", '"quoted"'],
  ["a JSON fragment that closes the string", `abc","event":"${FORGED_EVENT}","level":"fatal`],
  ["a whole JSON log line", `{"level":"fatal","event":"${FORGED_EVENT}"}`],
  ["a JSON line after a newline", `x\n{"level":"fatal","event":"${FORGED_EVENT}"}`],
  ["10 KB", "a".repeat(10 * 1024)],
  ["129 characters", "b".repeat(129)],
  ["accents (UTF-8)", "café-crème"],
  ["emoji (UTF-8)", "💥-🚀"],
  ["a LINE SEPARATOR (UTF-8)", "abc\u2028def"],
  ["right-to-left override (UTF-8)", "abc\u202edef"],
  ["percent-encoded CR LF", "abc%0d%0aX-Injected:%201"],
  ["escaped CR LF", "abc\\r\\nX-Injected: 1"],
  ["HTML", "<script>alert(1)</script>"],
  ["a tab inside", "abc\tdef"],
  ["spaces inside", "abc def"],
];

/** Sends `GET /healthz` (or the API's POST) with the value as raw UTF-8 bytes. */
function sendWithId(service: "gateway" | "worker", value: string) {
  return sendRaw(ports[service], httpRequest("GET", "/healthz", { "x-correlation-id": Buffer.from(value) }));
}

/** Every captured line of both services, as written. */
const stdout = () => `${pair.gateway.stdout()}${pair.worker.stdout()}`;

describe.each(["gateway", "worker"] as const)("the %s, given X-Correlation-ID with", (service) => {
  it.each(attacks)("%s, answers with a fresh UUID and never echoes it", async (_kind, value) => {
    const answer = await sendWithId(service, value);
    const id = answer.headers["x-correlation-id"];
    expect(id).toMatch(UUID);
    expect(answer.raw.toString("latin1")).not.toContain(Buffer.from(value).toString("latin1"));
    expect(answer.headerLines.join("\n")).not.toMatch(/x-injected/i);
    if (answer.status !== 200) expect(JSON.parse(answer.body)).toMatchObject({ correlation_id: id });
  });

  it("CR LF and a second header: is two headers, and only the safe first part is kept", async () => {
    const answer = await sendWithId(service, "abc-1\r\nX-Injected: 1");
    expect(answer.headers["x-correlation-id"]).toBe("abc-1");
    expect(answer.headerLines.join("\n")).not.toMatch(/x-injected/i);
  });

  it("any value at all: keeps it only when safe, else answers a fresh UUID and logs neither it nor a forged line", async () => {
    const unit = fc.oneof(
      fc.constantFrom(..."aZ09._:@/+=-", '"', "'", "{", "}", ",", ":", "\\", " ", "\t", "\r", "\n", "\u0000"),
      fc.constantFrom(`","event":"${FORGED_EVENT}","level":"fatal`, "\r\nX-Injected: 1", "é", "💥", "\u2028"),
      fc.string({ unit: "binary", minLength: 1, maxLength: 1 }),
    );
    const value = fc.oneof(
      fc.string({ unit, minLength: 1, maxLength: 60 }),
      fc.integer({ min: 100, max: 12_000 }).map((n) => "x".repeat(n)),
    );
    await fc.assert(
      fc.asyncProperty(value, async (sent) => {
        count(`${service}: hostile X-Correlation-ID`);
        const answer = await sendWithId(service, sent);
        const id = answer.headers["x-correlation-id"];
        expect(isValidCorrelationId(id), `answered ${answer.status}, id ${id}`).toBe(true);
        // CR LF ends the header; Node strips the spaces and tabs around what is left.
        const received = sent.split("\r\n")[0]!.replace(/^[ \t]+|[ \t]+$/g, "");
        if (id !== received) {
          expect(id).toMatch(UUID);
          if (received.length > 12) expect(stdout()).not.toContain(JSON.stringify(received).slice(1, -1));
        }
      }),
      runs(400),
    );
  });
});

describe("a hostile X-Correlation-ID on a task", () => {
  it.each(attacks.filter(([, value]) => !["\r", "\n", "\u0000"].some((c) => value.includes(c))))(
    "with %s: the worker and the webhook see only the gateway's replacement",
    async (_kind, value) => {
      const token = await pair.token();
      const answer = await sendRaw(
        ports.gateway,
        httpRequest(
          "POST",
          "/api/v1/tasks",
          {
            authorization: `Bearer ${token}`,
            "content-type": "application/json",
            "x-correlation-id": Buffer.from(value),
          },
          JSON.stringify({ title: "hostile correlation" }),
        ),
      );
      expect(answer.status).toBe(201);
      const id = answer.headers["x-correlation-id"]!;
      const task = JSON.parse(answer.body) as { id: string };
      const call = await waitFor(() => pair.receiver.callsForTask(task.id)[0], {
        timeoutMs: 20_000,
        what: "the webhook call",
      });
      expect(id).toMatch(UUID);
      expect(call.headers["x-correlation-id"]).toBe(id);
      expect(call.json?.correlation_id).toBe(id);
      expect(
        pair.worker
          .lines()
          .some((line) => line.event === "notification_accepted" && line.correlation_id === id),
      ).toBe(true);
    },
  );
});

describe("the logs of both services, afterwards", () => {
  it("are whole JSON lines, every one", () => {
    const lines = stdout()
      .split("\n")
      .filter((line) => line !== "");
    expect(lines.length).toBeGreaterThan(1000);
    expect(lines.filter((line) => !isJson(line))).toEqual([]);
  });

  it("hold no line whose event or level the input chose", () => {
    const lines = pair.lines();
    expect(lines.filter((line) => line.event === FORGED_EVENT)).toEqual([]);
    expect(lines.filter((line) => line.level === "fatal")).toEqual([]);
  });

  it("log each replacement by reason and length only", () => {
    const replaced = pair.lines().filter((line) => line.event === "correlation_id_replaced");
    expect(replaced.length).toBeGreaterThan(500);
    for (const line of replaced) {
      expect(line.reason).toMatch(/^(malformed|too_long)$/);
      expect(typeof line.length).toBe("number");
    }
  });

  it("hold none of the unsafe values, raw or JSON-escaped", () => {
    const text = stdout();
    for (const [, value] of attacks) {
      expect(text).not.toContain(value);
      expect(text).not.toContain(JSON.stringify(value).slice(1, -1));
    }
  });
});

function isJson(line: string): boolean {
  try {
    JSON.parse(line);
    return true;
  } catch {
    return false;
  }
}
