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
import { setResponseHeader } from "./response-header.js";

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
  return function correlation(c, next) {
    return withRequestCorrelation(c, logger, next);
  };
}

/**
 * Runs `handle` (the rest of the request) in the context of the request's correlation ID, then
 * puts the ID on the response: what {@link correlation} does, for a stack that runs its steps in
 * one middleware.
 */
export async function withRequestCorrelation(
  c: Context,
  logger: Logger,
  handle: () => Promise<void>,
): Promise<void> {
  const incoming = requestHeader(c, CORRELATION_HEADER);
  const id = isValidCorrelationId(incoming) ? incoming : newCorrelationId();
  await withCorrelation(id, () => {
    if (incoming && incoming !== id) {
      const reason = incoming.length > MAX_CORRELATION_ID_LENGTH ? "too_long" : "malformed";
      logger.warn({ reason, length: incoming.length }, "correlation_id_replaced");
    }
    return withErrorScope(id, handle);
  });
  setResponseHeader(c, CORRELATION_HEADER, id);
}
