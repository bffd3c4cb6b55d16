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
}));
