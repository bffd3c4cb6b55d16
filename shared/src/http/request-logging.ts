import type { Context, MiddlewareHandler } from "hono";
import type { Logger } from "../logging/index.js";

export interface RequestLoggingOptions {
  logger: Logger;
  /** A request slower than this also logs `slow_request` (warn). Default 500. */
  slowRequestMs?: number;
  /**
   * Paths logged at debug level, so probes do not flood the logs; a 5xx they return (a readiness
   * 503) is not `request_failed` either, unless thrown. Default `/healthz`, `/readyz`.
   */
  quietPaths?: readonly string[];
}

/**
 * Logs `request_started` (method, path) and `request_completed` (status_code, duration_ms), or
 * `request_failed` (error level, with `err`) for a 5xx, plus `slow_request` past `slowRequestMs`.
 * The path never includes the query string, which may carry tokens.
 *
 * @example
 * app.use(requestLogging({ logger, slowRequestMs: 500 }));
 */
export function requestLogging(options: RequestLoggingOptions): MiddlewareHandler {
  const log = requestLog(options);
  return async function requestLogging(c, next) {
    const started = log.started(c);
    await next();
    log.finished(c, started);
  };
}

/** The two halves of {@link requestLogging}, for a stack that runs its steps in one middleware. */
export interface RequestLog {
  /** Logs `request_started`; returns what `finished` needs. */
  started(c: Context): RequestStart;
  /** Logs `request_completed` or `request_failed`, and `slow_request` when it was slow. */
  finished(c: Context, started: RequestStart): void;
}

interface RequestStart {
  at: number;
  method: string;
  path: string;
  quiet: boolean;
}

/** What {@link requestLogging} logs, as two calls around the rest of the request. */
export function requestLog({
  logger,
  slowRequestMs = 500,
  quietPaths = ["/healthz", "/readyz"],
}: RequestLoggingOptions): RequestLog {
  const quiet = new Set(quietPaths);
  return {
    started(c) {
      const at = performance.now();
      const method = c.req.method;
      const path = c.req.path;
      const isQuiet = quiet.has(path);
      const level = isQuiet ? "debug" : "info";
      if (logger.isLevelEnabled(level)) logger[level]({ method, path }, "request_started");
      return { at, method, path, quiet: isQuiet };
    },
    finished(c, { at, method, path, quiet: isQuiet }) {
      const duration_ms = Math.round((performance.now() - at) * 10) / 10;
      const status_code = c.res.status;
      const level = isQuiet ? "debug" : "info";
      // A probe answering 503 (not ready, shutting down) is expected; only a thrown error there fails.
      if (status_code >= 500 && (!isQuiet || c.error)) {
        logger.error({ method, path, status_code, duration_ms, err: c.error }, "request_failed");
      } else if (logger.isLevelEnabled(level)) {
        logger[level]({ method, path, status_code, duration_ms }, "request_completed");
      }
      if (duration_ms > slowRequestMs) {
        logger.warn({ method, path, status_code, duration_ms, threshold_ms: slowRequestMs }, "slow_request");
      }
    },
  };
}
