import { createHash, timingSafeEqual } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import { HTTPException } from "hono/http-exception";

const digest = (value: string) => createHash("sha256").update(value).digest();

/**
 * Lets a request through only with `Authorization: Bearer <token>`. Both sides are hashed before
 * a constant-time compare, so neither the length nor any prefix of the token leaks through
 * timing. Missing, malformed and wrong alike answer 401 `unauthorized` (JSON, through the error
 * handler) with a `WWW-Authenticate` challenge. Hono's `bearerAuth` compares in constant time
 * too, but answers 400 for a malformed header, where this service's contract says 401.
 *
 * @example
 * app.use("/v1/*", workerToken(settings.WORKER_TOKEN));
 */
export function workerToken(token: string): MiddlewareHandler {
  const expected = digest(token);
  return async function workerToken(c, next) {
    const match = /^Bearer +(\S+) *$/i.exec(c.req.header("authorization") ?? "");
    if (!match?.[1] || !timingSafeEqual(digest(match[1]), expected)) {
      const res = new Response(null, { headers: { "WWW-Authenticate": 'Bearer realm="ward-worker"' } });
      throw new HTTPException(401, { message: "A valid worker token is required", res });
    }
    await next();
  };
}
