/**
 * `node dist/migrate.js` (`pnpm migrate`, the chart's hook Job): applies the worker's migrations
 * to DATABASE_URL, then exits 0, or 1 with a `migration_failed` line (143 on SIGTERM).
 */
import { runMigrationCommand } from "@ward/shared/postgres";
import { migrateWorkerDatabase } from "./migrations.js";
import { version } from "./version.js";

await runMigrationCommand({ service: "worker", version, apply: migrateWorkerDatabase });
