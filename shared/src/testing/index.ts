/**
 * Test support, shared by every package's tests (never built into dist): real PostgreSQL
 * databases and Redis key spaces per test run, real child processes with captured JSON logs.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { Writable } from "node:stream";
import postgres from "postgres";
import { Redis } from "ioredis";

/** The server tests create their databases on. */
export const ADMIN_DATABASE_URL =
  process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
/** The Redis tests use, each run under its own key prefix. */
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/**
 * A new, empty database for one test file; `drop()` removes it.
 *
 * @example
 * const db = await createTestDatabase(); afterAll(() => db.drop());
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `ward_test_${randomBytes(6).toString("hex")}`;
  const admin = postgres(ADMIN_DATABASE_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database "${name}"`);
  await admin.end();
  const url = new URL(ADMIN_DATABASE_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    async drop() {
      const sql = postgres(ADMIN_DATABASE_URL, { max: 1, onnotice: () => {} });
      await sql.unsafe(`drop database if exists "${name}" with (force)`);
      await sql.end();
    },
  };
}

export interface TestKeySpace {
  prefix: string;
  clean(): Promise<void>;
}

/**
 * A Redis key prefix of its own for one test file; `clean()` deletes every key under it.
 *
 * @example
 * const keys = testKeySpace(); afterAll(() => keys.clean());
 */
export function testKeySpace(): TestKeySpace {
  const prefix = `ward-test:${randomBytes(6).toString("hex")}:`;
  return {
    prefix,
    async clean() {
      const redis = new Redis(TEST_REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
      await redis.connect();
      let cursor = "0";
      do {
        const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 500);
        if (keys.length > 0) await redis.del(...keys);
        cursor = next;
      } while (cursor !== "0");
      await redis.quit();
    },
  };
}

/**
 * Polls `probe` until it returns something other than undefined/false, or fails after `timeoutMs`.
 *
 * @example
 * const row = await waitFor(async () => (await sql`select * from notifications`)[0]);
 */
export async function waitFor<T>(
  probe: () => T | Promise<T>,
  { timeoutMs = 15_000, intervalMs = 50, what = "condition" } = {},
): Promise<Exclude<T, false | undefined>> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value as Exclude<T, false | undefined>;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`, { cause: lastError });
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

export type LogLine = Record<string, unknown> & { event?: string; level?: string };

/** Collects JSON log lines: a destination for `createLogger` and a parsed view of them. */
export class LogCapture extends Writable {
  readonly raw: string[] = [];
  readonly lines: LogLine[] = [];
  private partial = "";

  override _write(chunk: Buffer | string, _encoding: string, done: () => void): void {
    this.append(chunk.toString());
    done();
  }

  /** Adds raw output; complete lines are parsed as they arrive. */
  append(text: string): boolean {
    const parts = (this.partial + text).split("\n");
    this.partial = parts.pop() ?? "";
    for (const part of parts) {
      if (part === "") continue;
      this.raw.push(part);
      try {
        this.lines.push(JSON.parse(part) as LogLine);
      } catch {
        // Not JSON (a stack trace on stderr, say): kept in raw only.
      }
    }
    return true;
  }

  events(): (string | undefined)[] {
    return this.lines.map((line) => line.event);
  }

  find(predicate: (line: LogLine) => boolean): LogLine | undefined {
    return this.lines.find(predicate);
  }

  text(): string {
    return this.raw.join("\n") + this.partial;
  }
}

export interface RunningProcess {
  child: ChildProcess;
  logs: LogCapture;
  stderr: LogCapture;
  /** Resolves with the exit code (or signal name) once the process ends. */
  exited: Promise<number | string>;
  waitForLog(predicate: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  stop(signal?: NodeJS.Signals): Promise<number | string>;
}

/**
 * Starts a real process with exactly `env` (plus PATH), capturing its JSON log lines.
 *
 * @example
 * const gateway = startProcess("node", ["dist/main.js"], { cwd, env: { PORT: "0", ... } });
 * await gateway.waitForLog((line) => line.event === "server_listening");
 */
export function startProcess(
  command: string,
  args: string[],
  options: { cwd?: string; env: Record<string, string | undefined> },
): RunningProcess {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: { PATH: process.env.PATH, ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const logs = new LogCapture();
  const stderr = new LogCapture();
  child.stdout?.on("data", (chunk: Buffer) => logs.append(chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => stderr.append(chunk.toString()));
  const exited = new Promise<number | string>((resolve) => {
    // "close", not "exit": it comes after the last output has been read.
    child.once("close", (code, signal) => resolve(code ?? signal ?? -1));
  });
  const running: RunningProcess = {
    child,
    logs,
    stderr,
    exited,
    waitForLog: (predicate, timeoutMs = 15_000) =>
      waitFor(() => logs.find(predicate), { timeoutMs, what: "a log line" }).catch((error: Error) => {
        throw new Error(`${error.message}\n--- stdout ---\n${logs.text()}\n--- stderr ---\n${stderr.text()}`);
      }),
    async stop(signal = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
  return running;
}

/** A distinct random value for a secret setting, easy to search for in captured output. */
export function randomSecret(label: string): string {
  return `${label}-canary-${randomBytes(16).toString("hex")}`;
}

export { freePort, startListening } from "./ports.js";
export { privateRedis, type PrivateRedis, type PrivateRedisOptions } from "./redis-server.js";
export {
  folderClosedToPostgresUser,
  postgresUserShutOut,
  privatePostgres,
  type PrivatePostgres,
} from "./postgres-server.js";
export {
  startWebhookReceiver,
  type Answer,
  type ReceivedCall,
  type WebhookPayload,
  type WebhookReceiver,
} from "./webhook-receiver.js";
export {
  startSentryIngest,
  type IngestRequest,
  type SentryEvent,
  type SentryIngest,
} from "./sentry-ingest.js";
export { capturedLogger, serveApp, type CapturedLogger } from "./http.js";
