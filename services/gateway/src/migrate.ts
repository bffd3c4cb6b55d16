/**
 * `node dist/migrate.js` (`pnpm migrate`, the chart's hook Job): applies the gateway's migrations
 * to DATABASE_URL, then exits 0, or 1 with a `migration_failed` line.
 */
import { createLogger } from "@ward/shared/logging";
import { connectPostgres } from "@ward/shared/postgres";
import {
  defineSettings,
  loadSettingsOrExit,
  logging,
  postgres,
  secretValues,
  server,
} from "@ward/shared/settings";
import { migrateGatewayDatabase } from "./migrations.js";
import { version } from "./version.js";

// Only what migrating needs: a Job should not fail for want of JWT_SECRET.
const migrateSettings = defineSettings((ctx) => ({
  ENVIRONMENT: server(ctx, { port: 8080 }).ENVIRONMENT,
  ...logging(),
  ...postgres(),
}));

const settings = loadSettingsOrExit(migrateSettings, { service: "gateway" });
const logger = createLogger({
  service: "gateway",
  version,
  environment: settings.ENVIRONMENT,
  level: settings.LOG_LEVEL,
  format: settings.LOG_FORMAT,
  secrets: secretValues(settings),
});
const sql = connectPostgres(settings.DATABASE_URL, { applicationName: "ward-gateway-migrate", max: 2 });

try {
  await migrateGatewayDatabase(sql, logger);
  await sql.end({ timeout: 5 });
} catch (err) {
  logger.error({ err }, "migration_failed");
  await sql.end({ timeout: 1 }).catch(() => {});
  process.exit(1);
}
