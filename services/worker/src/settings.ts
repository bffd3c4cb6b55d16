import {
  defineSettings,
  int,
  logging,
  postgres,
  redis,
  requiredWhen,
  secret,
  sentry,
  server,
  text,
  url,
  workerToken,
} from "@ward/shared/settings";

/**
 * The worker's settings: the shared pieces plus where and how webhooks are delivered.
 *
 * @example
 * const settings = loadSettingsOrExit(workerSettings, { service: "worker" });
 */
export const workerSettings = defineSettings((ctx) => ({
  ...server(ctx, { port: 8081 }),
  ...logging(),
  ...postgres(),
  ...redis(ctx),
  ...sentry(),
  ...workerToken(),
  WEBHOOK_URL: url({ optional: true }).describe("Where notifications are delivered; unset stores them only"),
  WEBHOOK_SIGNING_SECRET: secret(requiredWhen("WEBHOOK_URL", text({ min: 32 }))).describe(
    "Key that signs each webhook call",
  ),
  MAX_ATTEMPTS: int({ min: 1, max: 100, default: 5 }).describe(
    "Delivery attempts before a notification is parked as failed",
  ),
  WEBHOOK_TIMEOUT_MS: int({ min: 1, max: 300_000, default: 10_000 }).describe(
    "Longest wait for the webhook receiver's answer, in milliseconds; a slower one is a failed attempt",
  ),
  RETRY_BASE_MS: int({ min: 1, max: 3_600_000, default: 1000 }).describe(
    "Wait after a failed delivery attempt, in milliseconds; it doubles with each further one (with jitter)",
  ),
  RETRY_MAX_MS: int({ min: 1, max: 86_400_000, default: 300_000 }).describe(
    "Longest wait between two delivery attempts, in milliseconds",
  ),
  STALLED_JOB_MS: int({ min: 100, max: 3_600_000, default: 30_000 }).describe(
    "A job left unfinished this long (its worker died, or Redis lost it) is run again, in milliseconds; keep it above WEBHOOK_TIMEOUT_MS",
  ),
}));
