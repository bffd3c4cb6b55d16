/**
 * What each service reads from its environment, as the chart must supply it in a cluster (ENVIRONMENT is not
 * development there, so nothing falls back to a development default).
 *
 * TODO(lead): derive these lists from the services' settings definitions (services/<name>/src/settings)
 * once they exist, so the chart's contract tests follow the code instead of this copy of SPEC.md's table.
 */
export interface ServiceSettingsContract {
  /** Variables the service refuses to start without (given the chart's defaults). */
  required: readonly string[];
  /** Every variable the service reads; the chart sets nothing else. */
  known: readonly string[];
}

const common = [
  "PORT",
  "ENVIRONMENT",
  "LOG_LEVEL",
  "LOG_FORMAT",
  "SLOW_REQUEST_MS",
  "SHUTDOWN_DELAY_MS",
  "SHUTDOWN_TIMEOUT_MS",
  "DATABASE_URL",
  "REDIS_URL",
  "REDIS_KEY_PREFIX",
  "SENTRY_DSN",
  "WORKER_TOKEN",
] as const;

export const serviceSettings: Record<"gateway" | "worker", ServiceSettingsContract> = {
  gateway: {
    required: ["DATABASE_URL", "REDIS_URL", "JWT_SECRET", "WORKER_URL", "WORKER_TOKEN"],
    known: [...common, "JWT_SECRET", "WORKER_URL", "CORS_ORIGINS"],
  },
  worker: {
    required: ["DATABASE_URL", "REDIS_URL", "WORKER_TOKEN"],
    known: [...common, "WEBHOOK_URL", "WEBHOOK_SIGNING_SECRET", "MAX_ATTEMPTS"],
  },
};

/** Settings that are secrets: they may reach a container only through a secretKeyRef. */
export const secretSettings = [
  "DATABASE_URL",
  "REDIS_URL",
  "SENTRY_DSN",
  "JWT_SECRET",
  "WORKER_TOKEN",
  "WEBHOOK_SIGNING_SECRET",
] as const;

/** The worker also requires WEBHOOK_SIGNING_SECRET whenever WEBHOOK_URL is set. */
export const requiredWithWebhook = "WEBHOOK_SIGNING_SECRET";
