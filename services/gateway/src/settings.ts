import {
  defineSettings,
  int,
  list,
  logging,
  postgres,
  redis,
  secret,
  sentry,
  server,
  text,
  url,
  workerToken,
  type Settings,
} from "@ward/shared/settings";

/**
 * Everything the gateway reads from its environment (every one is listed, with its default, in .env.example): the shared server,
 * logging, PostgreSQL, Redis, Sentry and worker-token pieces, plus its own JWT key, the worker's
 * address, the browser origins allowed by CORS and how long delivered outbox entries are kept.
 *
 * @example
 * const settings = loadSettingsOrExit(gatewaySettings, { service: "gateway" });
 */
export const gatewaySettings = defineSettings((ctx) => ({
  ...server(ctx, { port: 8080 }),
  ...logging(),
  ...postgres(),
  ...redis(ctx),
  ...sentry(),
  ...workerToken(),
  JWT_SECRET: secret(text({ min: 32 })).describe("Key that signs and verifies user JWTs (HS256)"),
  WORKER_URL: url({ default: ctx.environment === "development" ? "http://127.0.0.1:8081" : undefined })
    // The HTTP client keeps a connection pool per origin; a path here would be silently dropped.
    .refine(isOrigin, "must be an origin such as http://worker:8081, without a path or query")
    .describe("Base URL of the worker"),
  CORS_ORIGINS: list({ of: url() }).describe(
    "Origins allowed to call the API from a browser, comma-separated or a JSON list",
  ),
  OUTBOX_RETENTION_HOURS: int({ min: 1, max: 87_600, default: 168 }).describe(
    "Hours a delivered notification request stays in the outbox table before it is deleted",
  ),
}));

/** The gateway's loaded settings. */
export type GatewaySettings = Settings<typeof gatewaySettings>;

function isOrigin(value: string): boolean {
  const parsed = new URL(value);
  return parsed.pathname === "/" && parsed.search === "" && parsed.hash === "";
}
