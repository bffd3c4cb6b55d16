import type { LogLine } from "./log-line.js";

/** What the last line of a trace says about the whole journey. */
export interface JourneySummary {
  lines: number;
  /** Services in the order they first appear. */
  services: string[];
  /** First to last timestamp, in milliseconds. */
  spanMs: number;
  /** Lines logged at `error` or `fatal`. */
  errors: number;
}

/**
 * Puts a request's lines in time order; lines with the same time keep the order they were read in,
 * so one service's burst of same-millisecond lines is never shuffled.
 *
 * @example
 * const journey = inTimeOrder([workerLine, gatewayLine]); // gatewayLine first when it is older
 */
export function inTimeOrder(lines: readonly LogLine[]): LogLine[] {
  // Array.prototype.sort is stable, which is exactly the tie-break we want.
  return [...lines].sort((a, b) => a.time - b.time);
}

/**
 * True when `line` was written somewhere else than `previous`: another service, or another pod of
 * the same service (a job picked up by a different worker replica, say).
 *
 * @example
 * isHop(gatewayLine, workerLine); // true
 */
export function isHop(previous: LogLine, line: LogLine): boolean {
  if (previous.service !== line.service) return true;
  return previous.pod !== undefined && line.pod !== undefined && previous.pod !== line.pod;
}

/**
 * True for the lines of asynchronous queue work (events named `job_*`), which run after the
 * request that caused them has already been answered.
 *
 * @example
 * isAsyncJob({ ...line, event: "job_started" }); // true
 */
export function isAsyncJob(line: LogLine): boolean {
  return line.event.startsWith("job_");
}

/**
 * Counts what a reader wants to know at a glance about a journey already in time order.
 *
 * @example
 * summarize(journey); // { lines: 12, services: ["gateway", "worker"], spanMs: 184, errors: 0 }
 */
export function summarize(journey: readonly LogLine[]): JourneySummary {
  const first = journey[0];
  const last = journey.at(-1);
  return {
    lines: journey.length,
    services: [...new Set(journey.map((line) => line.service))],
    spanMs: first && last ? last.time - first.time : 0,
    errors: journey.filter((line) => line.level === "error" || line.level === "fatal").length,
  };
}
