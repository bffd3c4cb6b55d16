/**
 * The gateway's start-up story: `node --import ./dist/instrument.js dist/main.js`.
 */
import { flushErrors, reportError } from "@ward/shared/errors";
import { createReadiness } from "@ward/shared/health";
import { createServiceClient, serveHttp } from "@ward/shared/http";
import { createLifecycle } from "@ward/shared/lifecycle";
import { createLogger } from "@ward/shared/logging";
import { connectPostgres } from "@ward/shared/postgres";
import { checkRedis, closeRedis, connectRedis } from "@ward/shared/redis";
import { loadSettingsOrExit, secretValues, summarizeSettings } from "@ward/shared/settings";
import { sinceProcessStart } from "@ward/shared/startup";
import { createApp } from "./app.js";
import { createOutboxRelay } from "./outbox/relay.js";
import { gatewaySettings } from "./settings.js";
import { version } from "./version.js";

// Start-up marks, logged with server_listening (where start-up goes: `pnpm bench`).
const importedAt = sinceProcessStart();

// 1. Settings: bad ones stop here, exit 78, with one line naming every offending variable.
const settings = loadSettingsOrExit(gatewaySettings, { service: "gateway" });
const settingsAt = sinceProcessStart();

// 2. The logger, which never prints a secret setting's value.
const logger = createLogger({
  service: "gateway",
  version,
  environment: settings.ENVIRONMENT,
  level: settings.LOG_LEVEL,
  format: settings.LOG_FORMAT,
  secrets: secretValues(settings),
});
logger.info({ settings: summarizeSettings(settings) }, "config_loaded");

// 3. Shutdown is planned before anything is opened: resources close in reverse order.
const readiness = createReadiness({ logger });
const lifecycle = createLifecycle({
  logger,
  readiness,
  shutdownDelayMs: settings.SHUTDOWN_DELAY_MS,
  shutdownTimeoutMs: settings.SHUTDOWN_TIMEOUT_MS,
  onFatal: reportError,
}).handleSignals();
// Closed last: the errors of the final requests still reach Sentry.
lifecycle.onShutdown("sentry", () => flushErrors(2000));

// 4. Dependencies: PostgreSQL, Redis (the task cache), the worker.
const sql = connectPostgres(settings.DATABASE_URL, { applicationName: "ward-gateway" });
lifecycle.onShutdown("postgres", () => sql.end({ timeout: 5 }));
const redis = connectRedis(settings.REDIS_URL, {
  logger,
  name: "gateway-cache",
  keyPrefix: `${settings.REDIS_KEY_PREFIX}gateway:`,
});
lifecycle.onShutdown("redis", () => closeRedis(redis));
const worker = createServiceClient(settings.WORKER_URL, { logger });
lifecycle.onShutdown("worker_client", () => worker.close());
readiness.check("postgres", () => sql`select 1`).check("redis", () => checkRedis(redis));

// 5. The outbox relay: notifications reach the worker even when it was down at the time. Its own
// two connections: its short statements never queue behind requests, nor requests behind them.
const outboxSql = connectPostgres(settings.DATABASE_URL, { applicationName: "ward-gateway-outbox", max: 2 });
lifecycle.onShutdown("postgres_outbox", () => outboxSql.end({ timeout: 5 }));
const relay = createOutboxRelay({
  sql: outboxSql,
  worker,
  workerToken: settings.WORKER_TOKEN,
  logger,
  retentionMs: settings.OUTBOX_RETENTION_HOURS * 3_600_000,
});

// 6. The HTTP server.
const app = createApp({
  logger,
  sql,
  redis,
  readiness,
  outbox: relay,
  jwtSecret: settings.JWT_SECRET,
  environment: settings.ENVIRONMENT,
  corsOrigins: settings.CORS_ORIGINS,
  slowRequestMs: settings.SLOW_REQUEST_MS,
  version,
});
// Requests the app never sees (malformed HTTP, no Host) get the same JSON errors, and a log line.
const server = serveHttp(app, { port: settings.PORT, logger }, ({ port }) =>
  logger.info(
    { port, startup_ms: { imports: importedAt, settings: settingsAt, listening: sinceProcessStart() } },
    "server_listening",
  ),
);
// A port already in use is an uncaught error: the lifecycle logs it (fatal), shuts down and exits 1.
lifecycle.trackServer(server);

// 7. Background work, drained on shutdown: the delivery in flight finishes and is recorded.
relay.start();
lifecycle.onDrain("outbox_relay", () => relay.stop());
