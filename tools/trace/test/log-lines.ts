import type { LogLine } from "../src/log-line.js";

/** When the journeys of the unit tests start. */
const start = Date.parse("2026-03-02T10:15:04.100Z");

/**
 * A parsed log line `offset` ms after `start`: the gateway's request_started unless `fields` say otherwise.
 *
 * @example
 * const worker = line(12, { service: "worker", event: "job_started" });
 */
export function line(offset: number, fields: Partial<LogLine> = {}): LogLine {
  return {
    time: start + offset,
    level: "info",
    service: "gateway",
    event: "request_started",
    record: {},
    ...fields,
  };
}
