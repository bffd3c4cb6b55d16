import { stripVTControlCharacters } from "node:util";
import { describe, expect, it } from "vitest";
import { duration, formatJourney, formatSummary } from "./format.js";
import { line } from "../test/log-lines.js";

describe("formatJourney", () => {
  it("shows each line's offset from the first, right-aligned", () => {
    const rows = formatJourney([line(0), line(9), line(1110)]);
    expect(rows.map((row) => row.slice(0, 8))).toEqual(["   +0 ms", "   +9 ms", "+1110 ms"]);
  });

  it("aligns service, level and event in columns", () => {
    const rows = formatJourney([
      line(0, { record: { method: "POST", path: "/api/v1/tasks" } }),
      line(3, { event: "task_created", record: { task_id: "tsk_1" } }),
    ]);
    expect(rows).toEqual([
      "+0 ms  gateway  info    request_started  POST /api/v1/tasks",
      "+3 ms  gateway  info    task_created     task_id=tsk_1",
    ]);
  });

  it("adds a pod column when any line came with a pod", () => {
    const rows = formatJourney([line(0), line(2, { service: "worker", pod: "ward-worker-5c8f7d9b6-qrstu" })]);
    expect(rows.at(-1)).toBe("+2 ms  worker   ward-worker-5c8f7d9b6-qrstu  info    request_started");
  });

  it("marks a change of service with a separator row", () => {
    const rows = formatJourney([line(0), line(2, { service: "worker" }), line(5)]);
    expect(rows).toEqual([
      "+0 ms  gateway  info    request_started",
      "       ── gateway → worker",
      "+2 ms  worker   info    request_started",
      "       ── worker → gateway",
      "+5 ms  gateway  info    request_started",
    ]);
  });

  it("marks a job moving to another pod of the same service", () => {
    const rows = formatJourney([
      line(0, { service: "worker", pod: "ward-worker-a", event: "job_enqueued" }),
      line(7, { service: "worker", pod: "ward-worker-b", event: "job_started" }),
    ]);
    expect(rows[1]).toBe("       ── worker ward-worker-a → ward-worker-b");
  });

  it("marks asynchronous job lines with ⇢", () => {
    const rows = formatJourney([
      line(0, { service: "worker", event: "job_started", record: { attempt: 1 } }),
    ]);
    expect(rows).toEqual(["+0 ms  worker  info  ⇢ job_started  attempt=1"]);
  });

  it("describes an outbound call by its target, status and duration", () => {
    const record = {
      method: "POST",
      target: "http://ward-worker:8081/v1/notifications",
      status_code: 202,
      duration_ms: 6.42,
    };
    const [row] = formatJourney([line(0, { event: "outbound_request", record })]);
    expect(row).toMatch(
      /outbound_request {2}POST → http:\/\/ward-worker:8081\/v1\/notifications 202 6\.4 ms$/,
    );
  });

  it("shows the ids, the attempt and the error message of a failed job", () => {
    const record = {
      notification_id: "ntf_1",
      attempt: 3,
      err: { type: "Error", message: "webhook answered 503" },
      user_id: "usr_1",
    };
    const [row] = formatJourney([line(0, { level: "warn", event: "job_retry_scheduled", record })]);
    expect(row).toMatch(/job_retry_scheduled {2}notification_id=ntf_1 attempt=3 err="webhook answered 503"$/);
  });

  it("escapes terminal control characters found in log values", () => {
    const [row] = formatJourney([
      line(0, { record: { path: "/x\u001b[2J", err: { message: "a\u001b]0;pwned\u0007" } } }),
    ]);
    expect(row).not.toContain("\u001b");
    expect(row).not.toContain("\u0007");
    expect(row).toContain("/x\\u001b[2J");
  });

  it("writes no colour codes unless asked", () => {
    const rows = formatJourney([line(0, { level: "error", record: { status_code: 500 } })]);
    expect(rows.join("\n")).not.toContain("\u001b[");
  });

  it("colours the same text when asked", () => {
    const lines = [line(0, { level: "error", record: { status_code: 500 } }), line(2, { service: "worker" })];
    const coloured = formatJourney(lines, { color: true });
    expect(coloured.join("\n")).toContain("\u001b[31m");
    expect(coloured.map((row) => stripVTControlCharacters(row))).toEqual(formatJourney(lines));
  });
});

describe("formatSummary", () => {
  it("gives lines, services in order, span and errors on one line", () => {
    const summary = { lines: 12, services: ["gateway", "worker"], spanMs: 184, errors: 0 };
    expect(formatSummary(summary)).toBe("12 lines · gateway → worker · 184 ms · 0 errors");
  });

  it("speaks in the singular for one line and one error", () => {
    const summary = { lines: 1, services: ["worker"], spanMs: 0, errors: 1 };
    expect(formatSummary(summary)).toBe("1 line · worker · 0 ms · 1 error");
  });
});

describe("duration", () => {
  it.each([
    [184, "184 ms"],
    [2345, "2.35 s"],
    [14_240, "14.2 s"],
    [200_400, "3 min 20 s"],
  ])("says %d ms as %s", (ms, text) => {
    expect(duration(ms)).toBe(text);
  });
});
