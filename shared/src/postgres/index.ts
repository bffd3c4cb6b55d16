import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import postgres, { type PendingQuery, type Row, type Sql } from "postgres";
import type { Logger } from "../logging/index.js";

export type { Sql } from "postgres";
export { isDatabaseUnavailable } from "./unavailable.js";
export { isStorableText } from "./storable-text.js";

export interface PostgresOptions {
  /** Shown in `pg_stat_activity`, e.g. "ward-gateway". */
  applicationName: string;
  /** Pool size. Default 10. */
  max?: number;
  /** Seconds to wait for a connection. Default 5. */
  connectTimeoutSeconds?: number;
}

/**
 * A PostgreSQL pool for `url` with every option set explicitly, so nothing falls back to the
 * PG* environment variables (a stray PGDATABASE or PGPASSWORD can't redirect it).
 *
 * @example
 * const sql = connectPostgres(settings.DATABASE_URL, { applicationName: "ward-gateway" });
 * const [task] = await sql`select * from tasks where id = ${id}`;
 */
export function connectPostgres(url: string, options: PostgresOptions): Sql {
  const parsed = new URL(url);
  const password = decodeURIComponent(parsed.password);
  const sslmode = parsed.searchParams.get("sslmode");
  return postgres({
    host: decodeURIComponent(parsed.hostname),
    port: Number(parsed.port || 5432),
    database: decodeURIComponent(parsed.pathname.slice(1)) || "postgres",
    user: decodeURIComponent(parsed.username) || "postgres",
    // A function, because an empty string would make the client read PGPASSWORD instead.
    pass: () => password,
    ssl:
      sslmode === null || sslmode === "disable" ? false : (sslmode as "require" | "prefer" | "verify-full"),
    max: options.max ?? 10,
    idle_timeout: 60,
    connect_timeout: options.connectTimeoutSeconds ?? 5,
    max_lifetime: 30 * 60,
    max_pipeline: 100,
    keep_alive: 60,
    backoff: reconnectDelaySeconds,
    prepare: true,
    debug: false,
    // true: with false, reserve() on a fresh pool never resolves (postgres 3.4).
    fetch_types: true,
    publications: "alltables",
    onnotice: () => {},
    connection: { application_name: options.applicationName },
  } as postgres.Options<Record<string, never>>);
}

export interface MigrateOptions {
  /** The folder of `NNN_name.sql` files, applied in name order. */
  directory: string;
  /** The table that records what was applied, one per service, e.g. "gateway_migrations". */
  table: string;
  logger: Logger;
  /**
   * Aborting cancels the statement in flight (the wait for the lock, or a migration, which rolls
   * back), releases the lock and rejects with the signal's reason.
   */
  signal?: AbortSignal;
}

/**
 * Applies the migrations not yet applied, each in its own transaction. An advisory lock
 * makes concurrent runs (several replicas, a hook Job) wait for each other instead of racing.
 *
 * @example
 * await migrate(sql, { directory: new URL("../migrations", import.meta.url).pathname, table: "gateway_migrations", logger });
 */
export async function migrate(sql: Sql, options: MigrateOptions): Promise<string[]> {
  const { signal } = options;
  const files = (await readdir(options.directory)).filter((name) => name.endsWith(".sql")).sort();
  signal?.throwIfAborted();
  const lock = await sql.reserve();
  try {
    await cancelledBy(signal, lock`select pg_advisory_lock(hashtext(${options.table}))`);
    await lock`create table if not exists ${lock(options.table)} (
      name text primary key, applied_at timestamptz not null default now())`;
    const done = new Set(
      (await lock<{ name: string }[]>`select name from ${lock(options.table)}`).map((row) => row.name),
    );
    const applied: string[] = [];
    for (const name of files.filter((file) => !done.has(file))) {
      const text = await readFile(join(options.directory, name), "utf8");
      // The lock lives in this reserved session; the migration itself may run on any connection.
      await sql.begin(async (tx) => {
        await cancelledBy(signal, tx.unsafe(text));
        await tx`insert into ${tx(options.table)} (name) values (${name})`;
      });
      options.logger.info({ migration: name }, "migration_applied");
      applied.push(name);
    }
    options.logger.info({ applied: applied.length, total: files.length }, "migrations_done");
    return applied;
  } finally {
    await lock`select pg_advisory_unlock(hashtext(${options.table}))`.catch(() => {});
    lock.release();
  }
}

/** Awaits `query`, cancelling it in PostgreSQL (a cancel request) if `signal` aborts meanwhile. */
async function cancelledBy<T extends readonly Row[]>(
  signal: AbortSignal | undefined,
  query: PendingQuery<T>,
): Promise<T> {
  if (!signal) return query;
  signal.throwIfAborted();
  const cancel = () => void query.cancel();
  signal.addEventListener("abort", cancel, { once: true });
  try {
    return await query;
  } catch (error) {
    throw signal.aborted ? (signal.reason as Error) : error;
  } finally {
    signal.removeEventListener("abort", cancel);
  }
}

/**
 * Seconds before a connection that failed tries again: 0.1 s doubling per failure in the pool,
 * at most 1 s, with jitter. The client's own default grows to 20 s, so a pool that saw a few
 * seconds' outage under load stayed unready long after PostgreSQL was back.
 */
function reconnectDelaySeconds(failures: number): number {
  return Math.min(0.1 * 2 ** failures, 1) * (0.5 + Math.random() / 2);
}

export { runMigrationCommand, type MigrationCommandOptions } from "./migrate-command.js";
