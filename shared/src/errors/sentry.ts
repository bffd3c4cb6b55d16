import { readFileSync } from "node:fs";
import type * as SentrySdk from "@sentry/node";
import { currentContext } from "../correlation/index.js";
import { REDACTED, secretScrubber } from "../logging/index.js";
import { isSentryDsn } from "./dsn.js";

type Sentry = typeof SentrySdk;
type SentryEvent = SentrySdk.ErrorEvent;

/** Set once Sentry runs; `@sentry/node` is not even loaded while this is undefined. */
let sentry: Sentry | undefined;

export interface SentryOptions {
  /** The project DSN. Unset or empty: Sentry stays off and nothing is loaded. */
  dsn: string | undefined;
  /** `service` tag, e.g. "gateway". */
  service: string;
  /** `environment` of every event, also a tag (the ENVIRONMENT setting). */
  environment: string;
  /** `release` of every event, e.g. the service's version. */
  release?: string;
  /** Live values of the secret settings: scrubbed from every event, wherever they appear. */
  secrets?: readonly string[];
}

/** The secret settings (every one is listed, with its default, in .env.example), read by {@link initSentryFromEnv} to scrub them from events. */
export const SECRET_SETTINGS = [
  "SENTRY_DSN",
  "DATABASE_URL",
  "REDIS_URL",
  "JWT_SECRET",
  "WORKER_TOKEN",
  "WEBHOOK_SIGNING_SECRET",
] as const;

// Headers and keys that never leave the process, whatever Sentry's own filters decide.
const SENSITIVE_KEYS = new Set([
  "authorization",
  "proxy-authorization",
  "cookie",
  "set-cookie",
  "x-api-key",
  "password",
  "passwd",
  "secret",
  "token",
  "access_token",
  "refresh_token",
  "client_secret",
  "api_key",
  "jwt",
]);

/**
 * Starts Sentry when a valid DSN is given (otherwise does nothing and loads nothing); later calls are
 * no-ops. Under ESM it must run before the app is imported: call it from a service's
 * `instrument.ts`, preloaded with `node --import`. Events carry the `service` and `environment`
 * tags; request bodies, cookies, query strings, Authorization headers and the live values of the
 * secret settings are stripped before sending. Resolves to whether Sentry is on.
 *
 * @example
 * await initSentry({ dsn: settings.SENTRY_DSN, service: "gateway", environment: "production", release: "1.2.0" });
 */
export async function initSentry(options: SentryOptions): Promise<boolean> {
  // A DSN the SDK would refuse, it would also print to stderr: stay off, and let the settings
  // loader refuse it without its value.
  if (!options.dsn || !isSentryDsn(options.dsn)) return false;
  if (sentry) return true;
  const sdk = await import("@sentry/node");
  const scrub = secretScrubber([options.dsn, ...(options.secrets ?? [])]);
  sdk.init({
    dsn: options.dsn,
    environment: options.environment,
    release: options.release,
    initialScope: { tags: { service: options.service, environment: options.environment } },
    // Its auto-injected Hono middleware reports 4xx validation errors and runs outside the
    // request's scope; the error handler reports 5xx itself.
    integrations: (defaults) => defaults.filter((integration) => integration.name !== "Hono"),
    includeLocalVariables: false,
    // Otherwise every outgoing request, a customer's webhook included, would carry sentry-trace
    // and baggage (the DSN's public key, environment, release). correlation_id links events.
    tracePropagationTargets: [],
    // Sentry 11 replaced `sendDefaultPii` by per-category switches; collect no personal data.
    dataCollection: {
      userInfo: false,
      cookies: false,
      httpBodies: [],
      urlQueryParams: false,
      httpHeaders: { request: { deny: [...SENSITIVE_KEYS] }, response: { deny: ["set-cookie"] } },
    },
    beforeSend: (event) => cleanEvent(event, scrub),
  });
  sentry = sdk;
  return true;
}

/**
 * {@link initSentry} from the environment alone, for a service's `instrument.ts` (it runs before
 * the settings are loaded): `SENTRY_DSN` or the file `SENTRY_DSN_FILE` names, `ENVIRONMENT`
 * (default development), the release (`release`, else `SENTRY_RELEASE`, else the
 * `npm_package_version` pnpm sets), and the values of the secret settings to scrub. Problems
 * with these variables are left to the settings loader, which reports them all at once.
 *
 * @example
 * // src/instrument.ts, started as `node --import ./dist/instrument.js dist/main.js`
 * import { initSentryFromEnv } from "@ward/shared/errors";
 * await initSentryFromEnv({ service: "gateway" });
 */
export function initSentryFromEnv(options: {
  service: string;
  release?: string;
  /** Secret settings whose values are scrubbed from events. Default {@link SECRET_SETTINGS}. */
  secretNames?: readonly string[];
  env?: NodeJS.ProcessEnv;
}): Promise<boolean> {
  const env = options.env ?? process.env;
  const dsn = readSetting(env, "SENTRY_DSN");
  if (!dsn) return Promise.resolve(false);
  const secrets = (options.secretNames ?? SECRET_SETTINGS).map((name) => readSetting(env, name));
  return initSentry({
    dsn,
    service: options.service,
    environment: env.ENVIRONMENT?.trim() || "development",
    release: options.release ?? (env.SENTRY_RELEASE || env.npm_package_version),
    secrets: secrets.filter((value): value is string => value !== undefined),
  });
}

/**
 * Sends `error` to Sentry, tagged with the `correlation_id` of the current request or job and
 * carrying the rest of its context. Does nothing when Sentry is off. The HTTP error handler calls
 * it for every 5xx; call it yourself for failures outside a request (a job parked as failed).
 *
 * @example
 * catch (error) { reportError(error); throw error; }
 */
export function reportError(error: unknown): void {
  const sdk = sentry;
  if (!sdk) return;
  const context = currentContext();
  sdk.withScope((scope) => {
    if (context) {
      scope.setTag("correlation_id", context.correlation_id);
      scope.setContext("log_context", { ...context });
    }
    sdk.captureException(error);
  });
}

/**
 * Runs `fn` in its own Sentry isolation scope tagged with `correlationId`, so anything Sentry
 * captures meanwhile (an unhandled rejection, a breadcrumb) belongs to this request or job.
 * Just calls `fn` when Sentry is off. The inbound correlation middleware uses it per request.
 *
 * @example
 * await withErrorScope(job.correlationId, () => deliver(job));
 */
export function withErrorScope<T>(correlationId: string, fn: () => T): T {
  const sdk = sentry;
  if (!sdk) return fn();
  return sdk.withIsolationScope((scope) => {
    scope.setTag("correlation_id", correlationId);
    return fn();
  });
}

/**
 * Waits until queued events are sent, at most `timeoutMs`; for shutdown. Resolves to false when
 * the time ran out, true otherwise (also when Sentry is off).
 *
 * @example
 * lifecycle.onShutdown(() => flushErrors(2000));
 */
export async function flushErrors(timeoutMs = 2000): Promise<boolean> {
  return sentry ? sentry.flush(timeoutMs) : true;
}

function cleanEvent(event: SentryEvent, scrub: (text: string) => string): SentryEvent {
  const request = event.request;
  if (request) {
    delete request.data;
    delete request.cookies;
    delete request.query_string;
    if (request.url) request.url = request.url.split("?", 1)[0];
    const headers = request.headers;
    if (headers)
      for (const name of Object.keys(headers))
        if (SENSITIVE_KEYS.has(name.toLowerCase())) delete headers[name];
  }
  return JSON.parse(scrub(JSON.stringify(event)), (key, value: unknown) =>
    SENSITIVE_KEYS.has(key.toLowerCase()) ? REDACTED : value,
  ) as SentryEvent;
}

/** `NAME`, else the content of the file `NAME_FILE` names (trailing newlines trimmed). */
function readSetting(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name];
  if (value?.trim()) return value;
  const file = env[`${name}_FILE`]?.trim();
  if (!file) return undefined;
  try {
    return readFileSync(file, "utf8").replace(/[\r\n]+$/, "") || undefined;
  } catch {
    return undefined;
  }
}
