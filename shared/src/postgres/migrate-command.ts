import { createLogger, type Logger } from "../logging/index.js";
import {
  defineSettings,
  environment,
  loadSettingsOrExit,
  logging,
  postgres,
  secretValues,
} from "../settings/index.js";
import { connectPostgres, type Sql } from "./index.js";

// Only what migrating needs: a migration Job must not fail for want of JWT_SECRET or WORKER_TOKEN.
const migrationSettings = defineSettings({ ...environment(), ...logging(), ...postgres() });

export interface MigrationCommandOptions {
  /** `service` field of the log lines, e.g. "gateway". */
  service: string;
  version: string;
  /** Applies the service's migrations, e.g. with `migrate(sql, { directory, table, logger })`. */
  apply: (sql: Sql, logger: Logger) => Promise<unknown>;
}

/**
 * The whole of a service's `node dist/migrate.js` (`pnpm migrate`, the chart's hook Job): reads
 * ENVIRONMENT, LOG_* and DATABASE_URL, applies the migrations, and exits 0 — or 1 after one
 * `migration_failed` line (78 for bad settings).
 *
 * @example
 * await runMigrationCommand({ service: "worker", version, apply: (sql, logger) => migrate(sql, { directory, table: "worker_migrations", logger }) });
 */
export async function runMigrationCommand(options: MigrationCommandOptions): Promise<void> {
  const { service, version } = options;
  const settings = loadSettingsOrExit(migrationSettings, { service });
  const logger = createLogger({
    service,
    version,
    environment: settings.ENVIRONMENT,
    level: settings.LOG_LEVEL,
    format: settings.LOG_FORMAT,
    secrets: secretValues(settings),
  });
  const sql = connectPostgres(settings.DATABASE_URL, { applicationName: `ward-${service}-migrate`, max: 2 });
  try {
    await options.apply(sql, logger);
    await sql.end({ timeout: 5 });
  } catch (err) {
    logger.fatal({ err }, "migration_failed");
    await sql.end({ timeout: 1 }).catch(() => {});
    process.exit(1);
  }
}
