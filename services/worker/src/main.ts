// The worker's start-up story. Started as `node --import ./dist/instrument.js dist/main.js`.
import { flushErrors, reportError } from "@ward/shared/errors";
import { createReadiness } from "@ward/shared/health";
import { createOutboundAgent, serveHttp } from "@ward/shared/http";
import { createLifecycle } from "@ward/shared/lifecycle";
import { createLogger } from "@ward/shared/logging";
import { connectPostgres } from "@ward/shared/postgres";
import { closeRedis, connectRedis } from "@ward/shared/redis";
import { loadSettingsOrExit, secretValues, summarizeSettings } from "@ward/shared/settings";
import { sinceProcessStart } from "@ward/shared/startup";
import { workerSettings } from "./settings.js";
import { version } from "./version.js";
import { createWorker } from "./app.js";

// Start-up marks, logged with server_listening (where start-up goes: `pnpm bench`).
const importedAt = sinceProcessStart();

// 1. Settings: read once; on a bad one, one message naming each problem, and exit 78.
const settings = loadSettingsOrExit(workerSettings, { service: "worker" });
const settingsAt = sinceProcessStart();

// 2. The logger: JSON lines, secrets scrubbed wherever they appear.
const logger = createLogger({
  service: "worker",
  version,
  environment: settings.ENVIRONMENT,
  level: settings.LOG_LEVEL,
  format: settings.LOG_FORMAT,
  secrets: secretValues(settings),
});
logger.info({ settings: summarizeSettings(settings) }, "config_loaded");

// 3. Shutdown, installed before anything needs closing. Resources close last-registered first.
const readiness = createReadiness({ logger });
const lifecycle = createLifecycle({
  logger,
  readiness,
  shutdownDelayMs: settings.SHUTDOWN_DELAY_MS,
  shutdownTimeoutMs: settings.SHUTDOWN_TIMEOUT_MS,
  onFatal: reportError,
}).handleSignals();
lifecycle.onShutdown("sentry", () => flushErrors(2000));

// 4. Connections: PostgreSQL holds the notifications, Redis the jobs (one more connection for
// the consumer's blocking reads), undici the webhook calls. None is awaited: readiness reports
// a dependency that is not there yet, and each reconnects on its own.
const sql = connectPostgres(settings.DATABASE_URL, { applicationName: "ward-worker" });
lifecycle.onShutdown("postgres", () => sql.end({ timeout: 5 }));
const keyPrefix = settings.REDIS_KEY_PREFIX;
const redis = connectRedis(settings.REDIS_URL, { logger, name: "worker-queue", keyPrefix });
lifecycle.onShutdown("redis", () => closeRedis(redis));
const reader = connectRedis(settings.REDIS_URL, {
  logger,
  name: "worker-consumer",
  keyPrefix,
  blocking: true,
});
const outbound = createOutboundAgent({ logger });
lifecycle.onShutdown("outbound", () => outbound.close());

// 5. The worker: HTTP app, consumer, scheduler and their readiness checks.
const stalledMs = settings.STALLED_JOB_MS;
const worker = createWorker({
  logger,
  readiness,
  sql,
  redis,
  reader,
  outbound,
  settings,
  tuning: {
    webhookTimeoutMs: settings.WEBHOOK_TIMEOUT_MS,
    backoff: { baseMs: settings.RETRY_BASE_MS, maxMs: settings.RETRY_MAX_MS },
    // A claim must outlast the slowest webhook call, or a second consumer could call it meanwhile.
    leaseMs: Math.max(stalledMs, 2 * settings.WEBHOOK_TIMEOUT_MS),
    consumer: { claimIdleMs: stalledMs },
    scheduler: { sweepGraceMs: stalledMs, sweepEveryMs: Math.min(15_000, stalledMs / 2) },
  },
});

// 6. Serve. On SIGTERM: readiness 503, then after SHUTDOWN_DELAY_MS the server stops accepting
// while in-flight requests and jobs finish; then Redis and PostgreSQL close; exit 0.
// Requests the app never sees (malformed HTTP, no Host) get the same JSON errors, and a log line.
const server = serveHttp(worker.app, { port: settings.PORT, logger }, (info) =>
  logger.info(
    {
      port: info.port,
      startup_ms: { imports: importedAt, settings: settingsAt, listening: sinceProcessStart() },
    },
    "server_listening",
  ),
);
lifecycle.trackServer(server);

// 7. Deliver.
worker.start();
lifecycle.onDrain("jobs", () => worker.stop());
