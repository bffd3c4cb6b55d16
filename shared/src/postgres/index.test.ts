import { mkdtemp, writeFile } from "node:fs/promises";
import { createServer, Socket, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../logging/index.js";
import {
  createTestDatabase,
  LogCapture,
  privatePostgres,
  waitFor,
  type TestDatabase,
} from "../testing/index.js";
import { connectPostgres, isDatabaseUnavailable, migrate } from "./index.js";

let db: TestDatabase;
const capture = new LogCapture();
const logger = createLogger({ service: "test", version: "0", environment: "test", destination: capture });

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db.drop());

describe("connectPostgres", () => {
  it("connects to the database the URL names, whatever the PG* variables say", async () => {
    const saved = { ...process.env };
    Object.assign(process.env, {
      PGDATABASE: "nowhere",
      PGHOST: "192.0.2.1",
      PGPASSWORD: "not-this",
      PGUSER: "nobody",
    });
    try {
      const sql = connectPostgres(db.url, { applicationName: "ward-test" });
      const [row] = await sql<{ db: string; app: string }[]>`
        select current_database() as db, current_setting('application_name') as app`;
      await sql.end();
      expect(row).toEqual({ db: db.name, app: "ward-test" });
    } finally {
      process.env = saved;
    }
  });
});

describe("a pool whose PostgreSQL went away", () => {
  it("says the database is unavailable, and answers within a second or so of its return", async () => {
    const server = await privatePostgres();
    await server.start();
    const sql = connectPostgres(server.url, { applicationName: "ward-test", max: 4 });
    try {
      await sql`select 1`;
      await server.stop();
      // Many failed connections, as under load: the client's own backoff would grow to 20 s.
      const errors = await Promise.all(
        Array.from({ length: 12 }, () => sql`select 1`.catch((caught: unknown) => caught)),
      );
      expect(errors.filter((error) => !isDatabaseUnavailable(error))).toEqual([]);
      await server.start();
      const back = performance.now();
      await sql`select 1`;
      expect(performance.now() - back).toBeLessThan(1500);
    } finally {
      await sql.end({ timeout: 1 });
      await server.destroy();
    }
  });

  it("keeps the process running when PostgreSQL shuts a connection down the moment it logs in", async () => {
    // The client's array-types lookup, its first statement on a new connection, then fails on
    // the closed socket with nobody waiting for it: that unhandled rejection ended a gateway.
    const unhandled: unknown[] = [];
    const record = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", record);
    const proxy = await shutDownFirstLogin(db.url);
    const sql = connectPostgres(proxy.url, { applicationName: "ward-test" });
    try {
      const error = await sql`select 1`.catch((caught: unknown) => caught);
      expect(isDatabaseUnavailable(error)).toBe(true);
      // Answered on a new connection: by then the closed one has failed whatever it held.
      expect(await sql`select 1 as answer`).toEqual([{ answer: 1 }]);
      expect(unhandled).toEqual([]);
    } finally {
      process.off("unhandledRejection", record);
      await sql.end({ timeout: 1 });
      await proxy.stop();
    }
  });

  it("does not call a wrong query an outage", async () => {
    const sql = connectPostgres(db.url, { applicationName: "ward-test" });
    const error = await sql`select no_such_column`.catch((caught: unknown) => caught);
    await sql.end();
    expect(isDatabaseUnavailable(error)).toBe(false);
  });
});

describe("migrate", () => {
  it("applies each migration exactly once when many replicas run it at the same time", async () => {
    const directory = await mkdtemp(join(tmpdir(), "ward-migrations-"));
    await writeFile(join(directory, "001_items.sql"), "create table items (id int primary key);");
    await writeFile(
      join(directory, "002_seed.sql"),
      "insert into items values (1); insert into items values (2);",
    );
    const clients = Array.from({ length: 5 }, () =>
      connectPostgres(db.url, { applicationName: "ward-test" }),
    );
    const results = await Promise.all(
      clients.map((sql) => migrate(sql, { directory, table: "test_migrations", logger })),
    );
    expect(results.flat().sort()).toEqual(["001_items.sql", "002_seed.sql"]);
    const sql = clients[0]!;
    expect(await sql`select id from items order by id`).toEqual([{ id: 1 }, { id: 2 }]);
    expect(await migrate(sql, { directory, table: "test_migrations", logger })).toEqual([]);
    await Promise.all(clients.map((client) => client.end()));
  });

  it("leaves nothing half-applied when a migration fails, and says which one", async () => {
    const directory = await mkdtemp(join(tmpdir(), "ward-migrations-"));
    await writeFile(join(directory, "001_ok.sql"), "create table fine (id int);");
    await writeFile(
      join(directory, "002_bad.sql"),
      "create table half (id int); select no_such_column from fine;",
    );
    const sql = connectPostgres(db.url, { applicationName: "ward-test" });
    await expect(migrate(sql, { directory, table: "bad_migrations", logger })).rejects.toThrow(
      /no_such_column/,
    );
    const tables = await sql<{ name: string }[]>`
      select table_name as name from information_schema.tables where table_name in ('fine', 'half')`;
    expect(tables.map((t) => t.name)).toEqual(["fine"]);
    await sql.end();
  });

  it("when aborted mid-migration, cancels it in PostgreSQL, rolls it back and frees the lock", async () => {
    const directory = await mkdtemp(join(tmpdir(), "ward-migrations-"));
    await writeFile(join(directory, "001_slow.sql"), "create table slow (id int); select pg_sleep(60);");
    const sql = connectPostgres(db.url, { applicationName: "ward-test-abort" });
    const other = connectPostgres(db.url, { applicationName: "ward-test" });
    try {
      const abort = new AbortController();
      const running = migrate(sql, { directory, table: "slow_migrations", logger, signal: abort.signal });
      await waitFor(
        async () =>
          (
            await other<{ n: number }[]>`
            select count(*)::int as n from pg_stat_activity
            where application_name = 'ward-test-abort' and query like '%pg_sleep%'`
          )[0]?.n === 1,
        { what: "the slow migration to run" },
      );
      abort.abort(new Error("stop"));
      await expect(running).rejects.toThrow("stop");

      const [state] = await other<{ slow: string | null; locked: boolean }[]>`
        select to_regclass('slow') as slow, pg_try_advisory_lock(hashtext('slow_migrations')) as locked`;
      expect(state).toEqual({ slow: null, locked: true });
    } finally {
      await sql.end({ timeout: 1 });
      await other.end();
    }
  });
});

/**
 * A TCP proxy to the PostgreSQL of `url` that answers the first login the way a fast shutdown
 * can: ReadyForQuery and, in the same packet, FATAL 57P01, then closes. Later logins pass.
 */
async function shutDownFirstLogin(url: string): Promise<{ url: string; stop(): Promise<void> }> {
  const target = new URL(url);
  const readyForQuery = Buffer.from([0x5a, 0, 0, 0, 5, 0x49]); // 'Z', length 5, idle
  const shutdown = errorResponse({ S: "FATAL", V: "FATAL", C: "57P01", M: "terminating connection" });
  let shutDown = false;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = new Socket().connect(Number(target.port || 5432), target.hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
      socket.on("error", () => socket.destroy());
    }
    client.on("data", (chunk: Buffer) => upstream.write(chunk));
    client.on("end", () => upstream.end());
    upstream.on("end", () => client.end());
    upstream.on("data", (chunk: Buffer) => {
      if (!shutDown && chunk.includes(readyForQuery)) {
        shutDown = true;
        client.end(Buffer.concat([chunk, shutdown]));
        upstream.end();
      } else {
        client.write(chunk);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const proxied = new URL(url);
  proxied.host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: proxied.toString(),
    stop: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** A protocol ErrorResponse message ('E') with the given fields. */
function errorResponse(fields: Record<string, string>): Buffer {
  const body = Buffer.concat([
    ...Object.entries(fields).map(([code, value]) => Buffer.from(`${code}${value}\0`)),
    Buffer.from("\0"),
  ]);
  const length = Buffer.alloc(4);
  length.writeInt32BE(body.length + 4);
  return Buffer.concat([Buffer.from("E"), length, body]);
}
