import type { Context, MiddlewareHandler } from "hono";
import {
  CORRELATION_HEADER,
  MAX_CORRELATION_ID_LENGTH,
  isValidCorrelationId,
  newCorrelationId,
  withCorrelation,
} from "../correlation/index.js";
import { withErrorScope } from "../errors/index.js";
import type { Logger } from "../logging/index.js";
import { requestHeader } from "./request-header.js";

export interface CorrelationOptions {
  /** Writes the `correlation_id_replaced` line. */
  logger: Logger;
}

/**
 * Gives every request its correlation ID: a well-formed incoming `X-Correlation-ID` is kept,
 * anything else gets a fresh UUID (a malformed or over-long one is logged once as
 * `correlation_id_replaced`, by length only, never raw). The rest of the request runs inside
 * that ID's context and every response carries it back, errors and raw `Response`s included.
 *
 * Hono's `requestId` is not used: it accepts a different character set, cannot log a
 * replacement or run the request in a context, and sets the header before `next()`, which a
 * route returning a raw `Response` loses.
 *
 * @example
 * app.use(correlation({ logger }));
 */
export function correlation({ logger }: CorrelationOptions): MiddlewareHandler {
  return async function correlation(c, next) {
    const incoming = requestHeader(c, CORRELATION_HEADER);
    const id = isValidCorrelationId(incoming) ? incoming : newCorrelationId();
    await withCorrelation(id, () => {
      if (incoming && incoming !== id) {
        const reason = incoming.length > MAX_CORRELATION_ID_LENGTH ? "too_long" : "malformed";
        logger.warn({ reason, length: incoming.length }, "correlation_id_replaced");
      }
      return withErrorScope(id, next);
    });
    setResponseHeader(c, CORRELATION_HEADER, id);
  };
}

/** Sets a header on the final response, copying it first when its headers are immutable. */
function setResponseHeader(c: Context, name: string, value: string): void {
  try {
    c.res.headers.set(name, value);
  } catch {
    // A Response from fetch() has immutable headers; the `c.res` setter copies it.
    c.res = new Response(c.res.body, c.res);
    c.res.headers.set(name, value);
  }
}
