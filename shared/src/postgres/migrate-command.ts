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
  /** Applies the service's migrations, e.g. with `migrate(sql, { directory, table, logger, signal })`. */
  apply: (sql: Sql, logger: Logger, signal: AbortSignal) => Promise<unknown>;
}

/** The exit code of a run stopped by SIGTERM or SIGINT: 128 + 15, as a shell reports a killed process. */
const INTERRUPTED_EXIT_CODE = 143;
/** If the cancelled statements have not unwound by then (say the database is unreachable), exit anyway. */
const INTERRUPT_GRACE_MS = 5_000;

/**
 * The whole of a service's `node dist/migrate.js` (`pnpm migrate`, the chart's hook Job): reads
 * ENVIRONMENT, LOG_* and DATABASE_URL, applies the migrations, and exits 0 — or 1 after one
 * `migration_failed` line (78 for bad settings). On SIGTERM or SIGINT (a Job past its deadline, a
 * deleted pod, Ctrl-C) it cancels what it is doing, so its advisory lock is released and the
 * migration in flight rolls back, and exits 143 after one `migration_interrupted` line.
 *
 * @example
 * await runMigrationCommand({ service: "worker", version, apply: migrateWorkerDatabase });
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
  const interrupt = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupt.signal.aborted) return;
    logger.warn({ signal }, "migration_interrupted");
    interrupt.abort(new Error(`interrupted by ${signal}`));
    setTimeout(() => process.exit(INTERRUPTED_EXIT_CODE), INTERRUPT_GRACE_MS).unref();
  };
  process.on("SIGTERM", onSignal).on("SIGINT", onSignal);
  try {
    await options.apply(sql, logger, interrupt.signal);
    await sql.end({ timeout: 5 });
  } catch (err) {
    if (!interrupt.signal.aborted) logger.fatal({ err }, "migration_failed");
    await sql.end({ timeout: 1 }).catch(() => {});
    process.exit(interrupt.signal.aborted ? INTERRUPTED_EXIT_CODE : 1);
  }
}
