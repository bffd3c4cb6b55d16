import { fileURLToPath } from "node:url";
import type { Logger } from "@ward/shared/logging";
import { migrate, type Sql } from "@ward/shared/postgres";

/** `migrations/` beside `src/` and `dist/`, so the same code works from either. */
const directory = fileURLToPath(new URL("../migrations/", import.meta.url));

/**
 * Brings the worker's table (`notifications`) up to date; safe when several replicas run it at
 * once. Resolves to the names of the migrations it applied; aborting `signal` cancels it.
 *
 * @example
 * await migrateWorkerDatabase(sql, logger);
 */
export function migrateWorkerDatabase(sql: Sql, logger: Logger, signal?: AbortSignal): Promise<string[]> {
  return migrate(sql, { directory, table: "worker_migrations", logger, signal });
}
