import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { ApiError } from "../errors/index.js";
import { nodeHeaders } from "./request-header.js";

/**
 * Rejects a request body larger than `maxBytes` with 413 `payload_too_large` (through the
 * error handler), using Hono's `bodyLimit`. Under Node, a request that declares neither
 * Content-Length nor Transfer-Encoding has no body and skips it, and a declared length is
 * checked up front: touching the body would make @hono/node-server build a full `Request`.
 *
 * @example
 * app.use(bodySizeLimit(1024 * 1024));
 */
export function bodySizeLimit(maxBytes: number): MiddlewareHandler {
  const tooLarge = (): never => {
    throw new ApiError(413, "payload_too_large", `The request body is larger than ${maxBytes} bytes`);
  };
  const limit = bodyLimit({ maxSize: maxBytes, onError: tooLarge });
  return function bodySizeLimit(c, next) {
    const headers = nodeHeaders(c);
    if (!headers || headers["transfer-encoding"] !== undefined) return limit(c, next);
    const length = headers["content-length"];
    if (length !== undefined && Number(length) > maxBytes) tooLarge();
    return next();
  };
}
