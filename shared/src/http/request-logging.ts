import type { MiddlewareHandler } from "hono";
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
export function requestLogging({
  logger,
  slowRequestMs = 500,
  quietPaths = ["/healthz", "/readyz"],
}: RequestLoggingOptions): MiddlewareHandler {
  const quiet = new Set(quietPaths);
  return async function requestLogging(c, next) {
    const start = performance.now();
    const method = c.req.method;
    const path = c.req.path;
    const isQuiet = quiet.has(path);
    const level = isQuiet ? "debug" : "info";
    if (logger.isLevelEnabled(level)) logger[level]({ method, path }, "request_started");
    await next();
    const duration_ms = Math.round((performance.now() - start) * 10) / 10;
    const status_code = c.res.status;
    // A probe answering 503 (not ready, shutting down) is expected; only a thrown error there fails.
    if (status_code >= 500 && (!isQuiet || c.error)) {
      logger.error({ method, path, status_code, duration_ms, err: c.error }, "request_failed");
    } else if (logger.isLevelEnabled(level)) {
      logger[level]({ method, path, status_code, duration_ms }, "request_completed");
    }
    if (duration_ms > slowRequestMs) {
      logger.warn({ method, path, status_code, duration_ms, threshold_ms: slowRequestMs }, "slow_request");
    }
  };
}
