import { describe, expect, it } from "vitest";
import { parseLogLine } from "./log-line.js";

const json = JSON.stringify({
  ts: "2026-03-02T10:15:04.100Z",
  level: "info",
  service: "gateway",
  version: "0.1.0",
  env: "production",
  event: "request_started",
  correlation_id: "req-1",
  method: "POST",
  path: "/api/v1/tasks",
});

describe("parseLogLine", () => {
  it("reads a plain JSON line", () => {
    expect(parseLogLine(json)).toEqual({
      time: Date.parse("2026-03-02T10:15:04.100Z"),
      level: "info",
      service: "gateway",
      event: "request_started",
      correlationId: "req-1",
      record: JSON.parse(json) as unknown,
    });
  });

  it("takes the pod from a kubectl logs --prefix prefix", () => {
    const line = parseLogLine(`[pod/ward-gateway-7d9c6b5f4-abcde/gateway] ${json}`);
    expect(line).toMatchObject({ pod: "ward-gateway-7d9c6b5f4-abcde", service: "gateway" });
  });

  it("reads kubectl lines that also carry --timestamps", () => {
    const line = parseLogLine(`[pod/ward-worker-5c8f7d9b6-qrstu/worker] 2026-03-02T10:15:04.100412Z ${json}`);
    expect(line).toMatchObject({ pod: "ward-worker-5c8f7d9b6-qrstu", correlationId: "req-1" });
  });

  it("falls back to the kubectl container name when a line has no service field", () => {
    const line = parseLogLine(`[pod/ward-worker-5c8f7d9b6-qrstu/worker] {"ts":"2026-03-02T10:15:04Z"}`);
    expect(line?.service).toBe("worker");
  });

  it("reads lines labelled [name] by concurrently, using the label when there is no service field", () => {
    const line = parseLogLine(`[worker] {"ts":"2026-03-02T10:15:04Z","event":"job_started"}`);
    expect(line).toMatchObject({ service: "worker", event: "job_started" });
    expect(line).not.toHaveProperty("pod");
  });

  it("reads lines labelled `name |` and ignores the colour codes around the label", () => {
    const line = parseLogLine(`\u001b[35mworker  |\u001b[39m {"ts":"2026-03-02T10:15:04Z"}`);
    expect(line?.service).toBe("worker");
  });

  it("prefers the line's own service field to any label", () => {
    expect(parseLogLine(`[1] ${json}`)?.service).toBe("gateway");
  });

  it("uses a `time` field in epoch milliseconds when `ts` is missing", () => {
    const line = parseLogLine(`{"time":1772446504100,"level":30,"msg":"request_started"}`);
    expect(line).toMatchObject({ time: 1772446504100, level: "info", event: "request_started" });
  });

  it("maps pino's numeric levels to their names", () => {
    expect(parseLogLine(`{"ts":"2026-03-02T10:15:04Z","level":50}`)?.level).toBe("error");
  });

  it.each([
    ["an empty line", ""],
    ["plain text", "Server listening on :8080"],
    ["pretty-printed pino output", "[10:15:04.100] INFO (gateway): request_started {"],
    ["broken JSON", '{"ts":"2026-03-02T10:15:04Z",'],
    ["a JSON array", '[{"ts":"2026-03-02T10:15:04Z"}]'],
    ["a JSON object without a usable time", '{"ts":"yesterday","event":"x"}'],
  ])("skips %s", (_, text) => {
    expect(parseLogLine(text)).toBeUndefined();
  });
});
