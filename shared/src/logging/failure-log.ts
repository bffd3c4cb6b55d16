import type { Logger } from "pino";

export interface FailureLogOptions {
  /** The event logged when it starts failing, e.g. "consumer_error". */
  failed: string;
  /** The event logged when it works again after failing, e.g. "consumer_recovered". */
  recovered: string;
  /** The level of the `failed` line. Default "warn". */
  level?: "warn" | "error";
  /** Fields on both lines, e.g. `{ consumer: name }`. */
  fields?: Record<string, unknown>;
  /** Also log `recovered` on the first success, before any failure (a connection's first "connected"). */
  announceFirst?: boolean;
}

export interface FailureLog {
  /**
   * Logs `failed` (with `err` and `fields`) unless it is already failing for the same `reason`;
   * a different reason (another error kind) is logged again.
   */
  failed(err: unknown, fields?: Record<string, unknown>, reason?: string): void;
  /** Logs `recovered` when it was failing (or first, with `announceFirst`); then quiet until the next failure. */
  succeeded(): void;
  /** Whether the last outcome was a failure. */
  readonly failing: boolean;
}

/**
 * "Log once when it starts failing, once when it recovers": for loops and probes that retry
 * something (a dependency away, a poll that fails) and must not write a line on every attempt.
 *
 * @example
 * const health = createFailureLog(logger, { failed: "consumer_error", recovered: "consumer_recovered", fields: { consumer: name } });
 * try { await round(); health.succeeded(); } catch (err) { health.failed(err); }
 */
export function createFailureLog(logger: Logger, options: FailureLogOptions): FailureLog {
  const { fields, level = "warn" } = options;
  let state: "unknown" | "ok" | "failing" = "unknown";
  let lastReason: string | undefined;
  return {
    failed(err, extra, reason) {
      if (state !== "failing" || reason !== lastReason) {
        logger[level]({ ...fields, ...extra, err }, options.failed);
      }
      state = "failing";
      lastReason = reason;
    },
    succeeded() {
      if (state === "failing" || (state === "unknown" && options.announceFirst)) {
        logger.info({ ...fields }, options.recovered);
      }
      state = "ok";
      lastReason = undefined;
    },
    get failing() {
      return state === "failing";
    },
  };
}
