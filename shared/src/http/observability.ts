import type { Hono } from "hono";
import type { Logger } from "../logging/index.js";
import { bodySizeLimit } from "./body-size-limit.js";
import { withRequestCorrelation } from "./correlation.js";
import { errorHandler, notFoundHandler } from "./error-handler.js";
import { requestLog } from "./request-logging.js";

export interface ObservabilityOptions {
  logger: Logger;
  /** A request slower than this also logs `slow_request`. Default 500 (the SLOW_REQUEST_MS setting). */
  slowRequestMs?: number;
  /** Paths logged at debug level. Default `/healthz`, `/readyz`. */
  quietPaths?: readonly string[];
  /** Largest accepted request body. Default 1 MiB. */
  maxBodyBytes?: number;
}

/**
 * Installs the whole inbound stack on `app`, in this order: correlation ID (context and response
 * header), request logging, body size limit; plus the JSON error and not-found handlers. Call it
 * before adding routes (middleware only applies to routes added after it); works for `Hono` and
 * `OpenAPIHono` alike and returns the same app.
 *
 * @example
 * const app = useObservability(new Hono(), { logger, slowRequestMs: settings.SLOW_REQUEST_MS });
 * app.get("/healthz", (c) => c.json({ status: "ok" }));
 * serve({ fetch: app.fetch, port: settings.PORT });
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any Hono app, whatever its bindings and schema
export function useObservability<App extends Hono<any, any, any>>(
  app: App,
  options: ObservabilityOptions,
): App {
  if (app.routes.length > 0) {
    throw new Error("useObservability(app) must run before any route or middleware is added");
  }
  const { logger, maxBodyBytes = 1024 * 1024 } = options;
  const onError = errorHandler();
  const log = requestLog(options);
  const limitBody = bodySizeLimit(maxBodyBytes);
  // One middleware runs every step: each layer of Hono's chain costs promises, and with
  // AsyncLocalStorage on, every promise pays for a context hook.
  app.use(function observability(c, next) {
    return withRequestCorrelation(c, logger, async () => {
      const started = log.started(c);
      try {
        await limitBody(c, next);
      } catch (thrown) {
        // Hono answers an Error thrown by a route itself; this is what reaches here: the body
        // limit's own 413 and anything else a route throws (`throw "x"`), so it still gets JSON.
        c.error =
          thrown instanceof Error ? thrown : new Error("A non-Error value was thrown", { cause: thrown });
        c.res = await onError(c.error, c);
      }
      log.finished(c, started);
    });
  });
  app.onError(onError);
  app.notFound(notFoundHandler);
  return app;
}
