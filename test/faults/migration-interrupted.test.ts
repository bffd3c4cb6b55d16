/**
 * A migration Job stopped mid-run (its activeDeadlineSeconds passed, its pod was deleted, a node
 * drained): Kubernetes sends SIGTERM to `node dist/migrate.js`, PID 1 of the pod. It must stop at
 * once, leave the advisory lock free for the next attempt, and exit non-zero so the Job counts a
 * failure, never a success.
 */
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, waitFor, type TestDatabase } from "@ward/shared/testing";
import { requireBuilt, startBuiltMigration, type ServiceName } from "../support/built-services.js";

const services: ServiceName[] = ["gateway", "worker"];
let db: TestDatabase;
let sql: postgres.Sql;

beforeAll(async () => {
  requireBuilt();
  db = await createTestDatabase();
  sql = postgres(db.url, { max: 4, onnotice: () => {} });
});

afterAll(async () => {
  await sql?.end();
  await db?.drop();
});

/** The sessions of a service's migration command, and what each is waiting for. */
const migrationSessions = (service: ServiceName) =>
  sql<{ wait_event_type: string | null }[]>`
    select wait_event_type from pg_stat_activity
    where datname = current_database() and application_name = ${`ward-${service}-migrate`}`;

describe.each(services)("the %s's migration command on SIGTERM", (service) => {
  const lockKey = `${service}_migrations`;

  it("stops while waiting for the migration lock, exits 143, and leaves the lock free", async () => {
    // Another replica's migration holds the lock, so this one waits for it.
    const holder = await sql.reserve();
    await holder`select pg_advisory_lock(hashtext(${lockKey}))`;
    const run = startBuiltMigration(service, {
      DATABASE_URL: db.url,
      ENVIRONMENT: "test",
      LOG_FORMAT: "json",
    });
    try {
      await waitFor(
        async () => (await migrationSessions(service)).some((session) => session.wait_event_type === "Lock"),
        { timeoutMs: 20_000, what: `the ${service} migration to wait for the lock` },
      );

      run.child.kill("SIGTERM");
      expect(await run.exited).toBe(143);
      expect(run.logs.events()).toContain("migration_interrupted");
      expect(run.logs.events()).not.toContain("migrations_done");

      // Its sessions are gone, not left queued behind the holder to grab the lock later.
      await waitFor(async () => (await migrationSessions(service)).length === 0, {
        what: `the ${service} migration's sessions to end`,
      });
      // Released by the holder, the lock is free: no session of the migration holds it.
      await holder`select pg_advisory_unlock(hashtext(${lockKey}))`;
      const [free] = await holder<{ locked: boolean }[]>`
        select pg_try_advisory_lock(hashtext(${lockKey})) as locked`;
      expect(free?.locked).toBe(true);
      await holder`select pg_advisory_unlock_all()`;
    } finally {
      run.child.kill("SIGKILL");
      holder.release();
    }
  });

  it("still migrates on the next attempt", async () => {
    const run = startBuiltMigration(service, {
      DATABASE_URL: db.url,
      ENVIRONMENT: "test",
      LOG_FORMAT: "json",
    });
    expect(await run.exited).toBe(0);
    expect(run.logs.events()).toContain("migrations_done");
  });
});
