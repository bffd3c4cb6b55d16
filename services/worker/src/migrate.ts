// `pnpm migrate` / `node dist/migrate.js` (the chart's hook Job): applies migrations/*.sql to
// DATABASE_URL and exits 0, or 1 with one log line. Safe while other replicas run it too.
import { fileURLToPath } from "node:url";
import { createLogger } from "@ward/shared/logging";
import { connectPostgres, migrate } from "@ward/shared/postgres";
import { defineSettings, loadSettingsOrExit, logging, postgres, secretValues } from "@ward/shared/settings";
import { workerSettings } from "./settings.js";
import { version } from "./version.js";

// Only what migrating needs: a missing WORKER_TOKEN must not stop the migration Job.
const migrateSettings = defineSettings((ctx) => {
  const { ENVIRONMENT } = workerSettings.fields(ctx);
  return { ENVIRONMENT, ...logging(), ...postgres() };
});

const settings = loadSettingsOrExit(migrateSettings, { service: "worker" });
const logger = createLogger({
  service: "worker",
  version,
  environment: settings.ENVIRONMENT,
  level: settings.LOG_LEVEL,
  format: settings.LOG_FORMAT,
  secrets: secretValues(settings),
});
const sql = connectPostgres(settings.DATABASE_URL, { applicationName: "ward-worker-migrate", max: 2 });
try {
  await migrate(sql, {
    directory: fileURLToPath(new URL("../migrations/", import.meta.url)),
    table: "worker_migrations",
    logger,
  });
  await sql.end({ timeout: 5 });
} catch (err) {
  logger.fatal({ err }, "migration_failed");
  await sql.end({ timeout: 1 }).catch(() => {});
  process.exit(1);
}
