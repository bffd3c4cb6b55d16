import type { Hono, MiddlewareHandler } from "hono";
import type { Logger } from "../logging/index.js";
import { bodySizeLimit } from "./body-size-limit.js";
import { correlation } from "./correlation.js";
import { errorHandler, notFoundHandler } from "./error-handler.js";
import { requestLogging } from "./request-logging.js";

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
  const { logger, slowRequestMs, quietPaths, maxBodyBytes = 1024 * 1024 } = options;
  app.use(
    correlation({ logger }),
    requestLogging({ logger, slowRequestMs, quietPaths }),
    thrownValuesAsErrors,
    bodySizeLimit(maxBodyBytes),
  );
  app.onError(errorHandler());
  app.notFound(notFoundHandler);
  return app;
}

/**
 * Hono hands only `Error`s to `onError`; anything else thrown (`throw "x"`) would escape the
 * stack and answer without JSON or a correlation header. Wrapped here, it reaches `onError`.
 */
const thrownValuesAsErrors: MiddlewareHandler = async (_c, next) => {
  try {
    await next();
  } catch (thrown) {
    if (thrown instanceof Error) throw thrown;
    throw new Error("A non-Error value was thrown", { cause: thrown });
  }
};
