import type { MiddlewareHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import { verify } from "hono/jwt";
import { z } from "zod";
import { bindContext } from "@ward/shared/correlation";
import { isStorableText } from "@ward/shared/postgres";
import type { Logger } from "@ward/shared/logging";

/** Who is calling: the JWT's `sub` and `org_id`. */
export interface Caller {
  userId: string;
  orgId: string;
}

/** The Hono environment of authenticated routes: `c.get("caller")`. */
export interface GatewayEnv {
  Variables: { caller: Caller };
}

export interface AuthenticateOptions {
  /** The HS256 key (JWT_SECRET). */
  secret: string;
  /** Writes `authentication_failed` with the reason (never the token). */
  logger: Logger;
}

// Both end up in queries: text PostgreSQL would refuse is a bad token, not a 500.
const claim = z.string().trim().min(1).max(200).refine(isStorableText);
const Claims = z.object({ sub: claim, org_id: claim });

const BEARER = /^Bearer +([^\s]+) *$/i;

/**
 * Requires `Authorization: Bearer <JWT>` signed HS256 with `secret` (hono/jwt: the header's alg
 * must be HS256, so `alg: none` and other algorithms are refused; `exp` and `nbf` are checked
 * when present), carrying non-empty `sub` and `org_id` claims. Sets `c.get("caller")` and binds
 * `user_id` and `org_id` into the log context for the rest of the request. Anything else is a
 * 401 JSON error with a `WWW-Authenticate: Bearer` challenge.
 *
 * @example
 * app.use("/api/v1/*", authenticate({ secret: settings.JWT_SECRET, logger }));
 * app.get("/api/v1/me", (c) => c.json(c.get("caller")));
 */
export function authenticate({ secret, logger }: AuthenticateOptions): MiddlewareHandler<GatewayEnv> {
  function reject(reason: string, message: string, challenge = 'Bearer realm="ward", error="invalid_token"') {
    logger.info({ reason }, "authentication_failed");
    return new HTTPException(401, {
      message,
      res: new Response(null, { status: 401, headers: { "WWW-Authenticate": challenge } }),
    });
  }

  return async function authenticate(c, next) {
    const header = c.req.header("authorization");
    if (!header) throw reject("missing", "Authorization: Bearer <token> is required", 'Bearer realm="ward"');
    const token = BEARER.exec(header)?.[1];
    if (!token) {
      throw reject(
        "malformed_header",
        "The Authorization header must be Bearer <token>",
        'Bearer realm="ward", error="invalid_request"',
      );
    }
    let payload: unknown;
    try {
      payload = await verify(token, secret, "HS256");
    } catch (err) {
      // The error's name only: hono's messages quote the token.
      const name = err instanceof Error && /^\w{1,64}$/.test(err.name) ? err.name : "Error";
      if (name === "JwtTokenExpired") throw reject("expired", "The token has expired");
      throw reject(name, "The token is invalid");
    }
    const claims = Claims.safeParse(payload);
    if (!claims.success)
      throw reject("missing_claims", "The token must carry non-empty sub and org_id claims");
    const caller = { userId: claims.data.sub, orgId: claims.data.org_id };
    c.set("caller", caller);
    bindContext({ user_id: caller.userId, org_id: caller.orgId });
    await next();
  };
}
