/**
 * `pnpm trace <id>` on the logs of a real run of the pair: from the two services' stdout saved to
 * files, and from the same lines as `kubectl logs --prefix` prints them.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { waitFor } from "@ward/shared/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startPair, type Pair, type ServiceName } from "../../../test/support/pair.js";
import { runTrace, type TraceRun } from "./run-trace.js";

const PODS: Record<ServiceName, string> = {
  gateway: "ward-gateway-7d9c6b5f4-x2k8p",
  worker: "ward-worker-5c8f7d9b6-q4rst",
};
const SUMMARY = /^(\d+) lines · gateway → worker · [\d.]+ (ms|s) · 0 errors$/;

/** What `kubectl logs --prefix` prints for one pod: each of its lines behind the pod's label. */
function withPrefix(service: ServiceName, stdout: string): string {
  const label = `[pod/${PODS[service]}/${service}] `;
  return stdout
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => `${label}${line}\n`)
    .join("");
}

/** Index of the first output row that mentions all of `words`. */
function rowOf(output: string, ...words: string[]): number {
  return output.split("\n").findIndex((row) => words.every((word) => row.includes(word)));
}

const id = "trace-me-7";
let pair: Pair;
let dir: string;
let files: Record<ServiceName, string>;
/** How many lines of the saved logs carry the id. */
let expectedLines: number;

beforeAll(async () => {
  pair = await startPair();
  dir = await mkdtemp(join(tmpdir(), "ward-trace-"));
  const response = await pair.api("/api/v1/tasks", {
    method: "POST",
    json: { title: "Trace me" },
    correlationId: id,
  });
  expect(response.status).toBe(201);
  await waitFor(() => pair.linesOf(id).find((line) => line.event === "job_completed"), {
    timeoutMs: 20_000,
    what: "the job to complete",
  });
  files = await pair.saveLogs(dir);
  expectedLines = [pair.gateway.stdout(), pair.worker.stdout()]
    .flatMap((text) => text.split("\n"))
    .filter((line) => line.includes(`"correlation_id":"${id}"`)).length;
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  if (pair) expect(await pair.stop()).toEqual({ gateway: 0, worker: 0 });
});

describe("pnpm trace on the services' log files", () => {
  let run: TraceRun;

  beforeAll(async () => {
    run = await runTrace([id, files.gateway, files.worker]);
  });

  it("succeeds", () => {
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
  });

  it("shows the gateway's request first and the worker's job after it", () => {
    const request = rowOf(run.stdout, "gateway", "request_started", "POST /api/v1/tasks");
    const hop = rowOf(run.stdout, "── gateway → worker");
    const job = rowOf(run.stdout, "worker", "job_started");
    const webhook = rowOf(run.stdout, "worker", "webhook_delivered");
    expect(request).toBe(0);
    expect(hop).toBeGreaterThan(request);
    expect(job).toBeGreaterThan(hop);
    expect(webhook).toBeGreaterThan(job);
  });

  it("ends with the summary line, counting every line of the request", () => {
    const summary = run.stdout.trimEnd().split("\n").at(-1) ?? "";
    expect(summary).toMatch(SUMMARY);
    expect(Number(SUMMARY.exec(summary)?.[1])).toBe(expectedLines);
  });
});

describe("pnpm trace on kubectl logs --prefix output", () => {
  let run: TraceRun;

  beforeAll(async () => {
    // kubectl prints one pod after the other, not interleaved by time.
    const input = withPrefix("gateway", pair.gateway.stdout()) + withPrefix("worker", pair.worker.stdout());
    run = await runTrace([id], { stdin: input });
  });

  it("succeeds", () => {
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
  });

  it("shows each line's pod, the gateway's request first and the worker's job after it", () => {
    const request = rowOf(run.stdout, "gateway", PODS.gateway, "request_started");
    const job = rowOf(run.stdout, "worker", PODS.worker, "job_started");
    expect(request).toBe(0);
    expect(job).toBeGreaterThan(request);
  });

  it("ends with the same summary line", () => {
    const summary = run.stdout.trimEnd().split("\n").at(-1) ?? "";
    expect(summary).toMatch(SUMMARY);
    expect(Number(SUMMARY.exec(summary)?.[1])).toBe(expectedLines);
  });
});
