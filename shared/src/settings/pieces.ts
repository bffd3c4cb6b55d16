import { ENVIRONMENTS, type SettingsContext } from "./context.js";
import { isSentryDsn } from "../errors/dsn.js";
import { enumOf, int, secret, text, url } from "./fields.js";

// setTimeout fires at once for anything longer, so longer durations would be silently wrong.
const MAX_TIMER_MS = 2_147_483_647;

/** The per-service default of `server()`. */
export interface ServerOptions {
  /** Default PORT. */
  port: number;
}

/**
 * HTTP server and lifecycle: PORT, ENVIRONMENT, SLOW_REQUEST_MS, SHUTDOWN_DELAY_MS (5000 in
 * Kubernetes, where load balancers need time to stop routing to a pod; 0 elsewhere) and SHUTDOWN_TIMEOUT_MS.
 *
 * @example
 * defineSettings((ctx) => ({ ...server(ctx, { port: 8080 }) }))
 */
export function server(context: SettingsContext, options: ServerOptions) {
  return {
    PORT: int({ min: 1, max: 65535, default: options.port }).describe("TCP port the HTTP server listens on"),
    ...environment(),
    SLOW_REQUEST_MS: int({ min: 1, max: MAX_TIMER_MS, default: 500 }).describe(
      "Requests slower than this many milliseconds also log slow_request",
    ),
    SHUTDOWN_DELAY_MS: int({ min: 0, max: MAX_TIMER_MS, default: context.inKubernetes ? 5000 : 0 }).describe(
      "After SIGTERM, milliseconds to keep serving while readiness reports 503, so traffic drains away",
    ),
    SHUTDOWN_TIMEOUT_MS: int({ min: 1, max: MAX_TIMER_MS, default: 25_000 }).describe(
      "After SIGTERM, milliseconds the whole shutdown may take, SHUTDOWN_DELAY_MS included, before exiting 1 anyway",
    ),
  };
}

/**
 * ENVIRONMENT alone (part of `server()`), for commands that serve nothing, such as migrations.
 *
 * @example
 * defineSettings({ ...environment(), ...logging(), ...postgres() })
 */
export function environment() {
  return {
    ENVIRONMENT: enumOf(ENVIRONMENTS, { default: "development" }).describe(
      "Where the service runs: development, test, staging or production",
    ),
  };
}

/**
 * Logging: LOG_LEVEL and LOG_FORMAT.
 *
 * @example
 * defineSettings({ ...logging() })
 */
export function logging() {
  return {
    LOG_LEVEL: enumOf(["debug", "info", "warn", "error", "fatal"], { default: "info" }).describe(
      "Lowest level logged: debug, info, warn, error or fatal",
    ),
    LOG_FORMAT: enumOf(["json", "pretty"], { default: "json" }).describe(
      "json (one object per line) or pretty (for people, in development)",
    ),
  };
}

/**
 * PostgreSQL: DATABASE_URL (secret, required).
 *
 * @example
 * defineSettings({ ...postgres() })
 */
export function postgres() {
  return {
    DATABASE_URL: secret(url({ protocols: ["postgres", "postgresql"] })).describe(
      "PostgreSQL connection URL, postgres://USER:PASSWORD@HOST:5432/DB (pnpm dev starts an embedded one when unset)",
    ),
  };
}

/**
 * Redis: REDIS_URL (secret; redis://127.0.0.1:6379 in development, else required) and REDIS_KEY_PREFIX.
 *
 * @example
 * defineSettings((ctx) => ({ ...redis(ctx) }))
 */
export function redis(context: SettingsContext) {
  return {
    REDIS_URL: secret(
      url({
        protocols: ["redis", "rediss"],
        default: context.environment === "development" ? "redis://127.0.0.1:6379" : undefined,
      }),
    ).describe("Redis connection URL, redis:// or rediss:// (TLS)"),
    REDIS_KEY_PREFIX: text({ min: 1, max: 64, default: "ward:" }).describe(
      "Prefix of every Redis key, so several installs (or test runs) can share one Redis",
    ),
  };
}

/**
 * Sentry: SENTRY_DSN (secret, optional: unset turns error reporting off).
 *
 * @example
 * defineSettings({ ...sentry() })
 */
export function sentry() {
  return {
    SENTRY_DSN: secret(
      url({ optional: true }).refine(
        (dsn) => dsn === undefined || isSentryDsn(dsn),
        "must be a Sentry DSN: https://<public key>@<host>/<project id>",
      ),
    ).describe("Sentry DSN; unset turns error reporting off"),
  };
}

/**
 * The token the gateway presents to the worker: WORKER_TOKEN (secret, at least 32 characters).
 *
 * @example
 * defineSettings({ ...workerToken() })
 */
export function workerToken() {
  return {
    WORKER_TOKEN: secret(text({ min: 32 })).describe(
      "Shared secret the gateway sends to the worker as a Bearer token",
    ),
  };
}
