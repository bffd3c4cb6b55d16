/**
 * What the fault tests share: the built gateway and worker as real processes on servers the test
 * chooses (so it can break them), a webhook receiver that can fail on command, a bounded task
 * load, a readiness watcher, and the figures each test reports.
 */
import { appendFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { sign } from "hono/jwt";
import { connectPostgres, type Sql } from "@ward/shared/postgres";
import { freePort, randomSecret, waitFor } from "@ward/shared/testing";
import {
  builtService,
  migrateBuilt,
  requireBuilt,
  type Service,
  type ServiceName,
} from "../support/built-services.js";

export type { Service, ServiceName };

/** How often the tests probe `/readyz`, standing in for a Kubernetes probe's `periodSeconds`. */
export const PROBE_PERIOD_MS = 2000;

// ---------------------------------------------------------------------------------------------
// Processes

export interface FaultPairOptions {
  /** DATABASE_URL of both services (migrated here). */
  databaseUrl: string;
  redisUrl: string;
  keyPrefix: string;
  /** WEBHOOK_URL of the worker. */
  webhookUrl: string;
  /** Settings added to (or overriding) the gateway's. */
  gateway?: Record<string, string>;
  /** Settings added to (or overriding) the worker's. */
  worker?: Record<string, string>;
}

export interface FaultPair {
  gateway: Service;
  worker: Service;
  /** A connection to the services' database, for checking rows. */
  sql: Sql;
  /** POST /api/v1/tasks as user-1 of org-1. */
  createTask(title: string): Promise<Response>;
  /** Creates one task per title, all at once; resolves to their ids (throws unless every one is 201). */
  createTasks(titles: readonly string[]): Promise<string[]>;
  /** GET /api/v1/tasks/:id as user-1 of org-1. */
  readTask(id: string): Promise<Response>;
  /** Every notification row: id, task id, status, attempts. */
  notifications(): Promise<NotificationRow[]>;
  /** Ends every process still running (SIGKILL) and the database connection. */
  close(): Promise<void>;
}

export interface NotificationRow {
  id: string;
  task_id: string;
  status: string;
  attempts: number;
}

/**
 * Timings that let faults play out in seconds: stalled jobs taken over after 2 s, retries from
 * 100 ms up to 1 s, a webhook call given 1 s.
 */
export const FAST_WORKER = {
  STALLED_JOB_MS: "2000",
  RETRY_BASE_MS: "100",
  RETRY_MAX_MS: "1000",
  WEBHOOK_TIMEOUT_MS: "1000",
};

/**
 * Migrates the database, then starts the built worker and gateway (`node --import
 * ./dist/instrument.js dist/main.js`) with fresh random secrets, and waits until
 * both are ready. Nothing here is shared with another test: the servers are the caller's.
 *
 * @example
 * const pair = await startFaultPair({ databaseUrl, redisUrl: redis.url, keyPrefix, webhookUrl: receiver.url });
 * await pair.worker.kill("SIGKILL");
 * await pair.worker.start();
 */
export async function startFaultPair(options: FaultPairOptions): Promise<FaultPair> {
  requireBuilt();
  const jwtSecret = randomSecret("jwt");
  const workerToken = randomSecret("worker-token");
  const common = { ENVIRONMENT: "test", LOG_LEVEL: "info", DATABASE_URL: options.databaseUrl };
  const running = {
    ...common,
    REDIS_URL: options.redisUrl,
    REDIS_KEY_PREFIX: options.keyPrefix,
    WORKER_TOKEN: workerToken,
    SHUTDOWN_DELAY_MS: "0",
  };
  for (const name of ["gateway", "worker"] as const) await migrateBuilt(name, common);
  const worker = builtService("worker", {
    ...running,
    WEBHOOK_URL: options.webhookUrl,
    WEBHOOK_SIGNING_SECRET: randomSecret("webhook"),
    ...FAST_WORKER,
    ...options.worker,
  });
  const gateway = builtService("gateway", () => ({
    ...running,
    JWT_SECRET: jwtSecret,
    WORKER_URL: worker.url,
    ...options.gateway,
  }));
  const sql = connectPostgres(options.databaseUrl, { applicationName: "ward-faults", max: 2 });
  const close = async () => {
    await Promise.all(
      [...gateway.runs, ...worker.runs].map((run) => {
        if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill("SIGKILL");
        return run.exited;
      }),
    );
    await sql.end({ timeout: 1 });
  };
  try {
    await worker.start(); // first: the gateway is given its address
    await gateway.start();
  } catch (error) {
    await close();
    throw error;
  }

  const token = await sign(
    { sub: "user-1", org_id: "org-1", exp: Math.floor(Date.now() / 1000) + 3600 },
    jwtSecret,
    "HS256",
  );
  const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
  const createTask = (title: string) =>
    fetch(`${gateway.url}/api/v1/tasks`, {
      method: "POST",
      headers,
      body: JSON.stringify({ title }),
      signal: AbortSignal.timeout(10_000),
    });
  return {
    gateway,
    worker,
    sql,
    createTask,
    createTasks: (titles) =>
      Promise.all(
        titles.map(async (title) => {
          const response = await createTask(title);
          if (response.status !== 201) throw new Error(`creating a task answered ${response.status}`);
          return ((await response.json()) as { id: string }).id;
        }),
      ),
    readTask: (id) =>
      fetch(`${gateway.url}/api/v1/tasks/${id}`, { headers, signal: AbortSignal.timeout(10_000) }),
    notifications: () => sql<NotificationRow[]>`
      select id, payload->'task'->>'id' as task_id, status, attempts from notifications order by created_at`,
    close,
  };
}

// ---------------------------------------------------------------------------------------------
// The webhook receiver

/** How the receiver answers one call: a status (after `delayMs`), or never ("hang"). */
export type Answer = { status: number; delayMs?: number } | "hang";

export interface ReceivedCall {
  /** The Idempotency-Key header: the notification id. */
  key: string;
  taskId: string;
  title: string;
  /** When the call arrived (Date.now()). */
  at: number;
  answer: Answer;
}

export interface Receiver {
  url: string;
  /** Every call, in arrival order. */
  calls: ReceivedCall[];
  /** Decides each answer from here on; default 200 at once. */
  answer: (call: ReceivedCall) => Answer;
  /** The calls answered 2xx, by Idempotency-Key: what a receiver that drops repeated keys handles once. */
  handled(): Map<string, ReceivedCall[]>;
  /** The distinct Idempotency-Keys answered 2xx for one task: one per event announced. */
  keysForTask(taskId: string): Set<string>;
  /** Stops listening and cuts every open connection: calls are refused until `start()`. */
  stop(): Promise<void>;
  /** Listens again, on the same port. */
  start(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A real HTTP server standing in for a customer's webhook endpoint on a fixed loopback port. It
 * records every call, answers as `answer` decides, and can be stopped (connection refused) and
 * started again.
 *
 * @example
 * const receiver = await startReceiver();
 * receiver.answer = () => ({ status: 500 });
 */
export async function startReceiver(): Promise<Receiver> {
  const calls: ReceivedCall[] = [];
  const sockets = new Set<Socket>();
  const port = await freePort();
  const receiver: Receiver = {
    url: `http://127.0.0.1:${port}/hooks/ward`,
    calls,
    answer: () => ({ status: 200 }),
    handled() {
      const byKey = new Map<string, ReceivedCall[]>();
      for (const call of calls) {
        if (call.answer === "hang" || call.answer.status >= 300) continue;
        byKey.set(call.key, [...(byKey.get(call.key) ?? []), call]);
      }
      return byKey;
    },
    keysForTask(taskId) {
      return new Set(
        calls
          .filter((call) => call.taskId === taskId && call.answer !== "hang" && call.answer.status < 300)
          .map((call) => call.key),
      );
    },
    async stop() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
    },
    start: () => new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve)),
    close: () => receiver.stop(),
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as {
        task: { id: string; title: string };
      };
      const call: ReceivedCall = {
        key: String(req.headers["idempotency-key"]),
        taskId: body.task.id,
        title: body.task.title,
        at: Date.now(),
        answer: { status: 200 },
      };
      call.answer = receiver.answer(call);
      calls.push(call);
      const answer = call.answer;
      if (answer === "hang") return; // the worker's timeout ends it
      const reply = () => res.writeHead(answer.status, { "content-type": "application/json" }).end("{}");
      if (answer.delayMs) setTimeout(reply, answer.delayMs);
      else reply();
    });
  });
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  await receiver.start();
  return receiver;
}

// ---------------------------------------------------------------------------------------------
// Load

export interface Outcome {
  kind: "create" | "read";
  /** When the request was sent and answered (Date.now()). */
  sentAt: number;
  doneAt: number;
  /** The HTTP status, or "network_error" when no answer came (refused, reset, timed out). */
  status: number | "network_error";
  /** The created task (201 only). */
  taskId?: string;
  /** The error body's `error` code and whether it carried a correlation_id (4xx/5xx only). */
  error?: { code: unknown; correlated: boolean };
}

export interface TaskLoad {
  outcomes: Outcome[];
  /** Ids of the tasks created (201), in order. */
  created(): string[];
  /** Stops sending; resolves once the requests in flight are answered. */
  stop(): Promise<Outcome[]>;
}

export interface TaskLoadOptions {
  /** Loops sending one after another. Default 2. */
  concurrency?: number;
  /** Pause after each create (and its read). Default 50 ms. */
  pauseMs?: number;
  /** Bound on the requests sent. Default 500. */
  maxRequests?: number;
  /** Bound on the time spent. Default 30 s. */
  maxMs?: number;
  /** Reads each created task back (through the gateway's Redis cache). Default true. */
  readBack?: boolean;
  /** Checked before each request: true stops the loops (a client that stops on readiness failing). */
  shouldStop?: () => boolean;
}

/**
 * A bounded client of the gateway: `concurrency` loops that each create a task and read it back,
 * pause, and go again, until stopped or a bound is reached. Every request's outcome is kept.
 *
 * @example
 * const load = startTaskLoad(pair, { concurrency: 2 });
 * await sleep(1000);
 * const outcomes = await load.stop();
 */
export function startTaskLoad(pair: FaultPair, options: TaskLoadOptions = {}): TaskLoad {
  const { concurrency = 2, pauseMs = 50, maxRequests = 500, maxMs = 30_000, readBack = true } = options;
  const outcomes: Outcome[] = [];
  const deadline = Date.now() + maxMs;
  let sent = 0;
  let stopped = false;
  const more = () => !stopped && sent < maxRequests && Date.now() < deadline && !options.shouldStop?.();

  async function send(kind: Outcome["kind"], request: () => Promise<Response>): Promise<Outcome> {
    sent += 1;
    const sentAt = Date.now();
    const outcome: Outcome = { kind, sentAt, doneAt: sentAt, status: "network_error" };
    try {
      const response = await request();
      outcome.status = response.status;
      const body = (await response.json()) as { id?: string; error?: unknown; correlation_id?: unknown };
      if (response.status === 201 && typeof body.id === "string") outcome.taskId = body.id;
      if (response.status >= 400) {
        outcome.error = { code: body.error, correlated: typeof body.correlation_id === "string" };
      }
    } catch {
      // No answer: stays "network_error".
    }
    outcome.doneAt = Date.now();
    outcomes.push(outcome);
    return outcome;
  }

  async function loop(n: number): Promise<void> {
    while (more()) {
      const created = await send("create", () => pair.createTask(`load ${n}-${sent}`));
      if (readBack && created.taskId && more()) {
        const id = created.taskId;
        await send("read", () => pair.readTask(id));
      }
      await sleep(pauseMs);
    }
  }

  const loops = Promise.all(Array.from({ length: concurrency }, (_, n) => loop(n)));
  return {
    outcomes,
    created: () => outcomes.flatMap((outcome) => (outcome.taskId ? [outcome.taskId] : [])),
    async stop() {
      stopped = true;
      await loops;
      return outcomes;
    },
  };
}

/** Outcomes that are not a success: anything but 2xx, or no answer at all. */
export function failures(outcomes: readonly Outcome[]): Outcome[] {
  return outcomes.filter((outcome) => outcome.status === "network_error" || outcome.status >= 300);
}

// ---------------------------------------------------------------------------------------------
// Readiness

export interface ReadinessSample {
  at: number;
  /** The HTTP status of /readyz (or /healthz), or "network_error". */
  status: number | "network_error";
}

export interface Watcher {
  samples: ReadinessSample[];
  /** The first sample at or after `since` whose status is `status`. */
  first(status: ReadinessSample["status"], since: number): ReadinessSample | undefined;
  /** Waits for such a sample, up to `timeoutMs`. */
  waitFor(status: ReadinessSample["status"], since: number, timeoutMs?: number): Promise<ReadinessSample>;
  stop(): Promise<void>;
}

/**
 * Probes `url` every `everyMs` (one probe at a time, each given 3 s), keeping every answer.
 *
 * @example
 * const readyz = watch(`${pair.gateway.url}/readyz`);
 * const flipped = await readyz.waitFor(503, outageStartedAt);
 */
export function watch(url: string, everyMs = 100): Watcher {
  const samples: ReadinessSample[] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      let status: ReadinessSample["status"] = "network_error";
      try {
        const response = await fetch(url, { signal: AbortSignal.timeout(3000) });
        await response.arrayBuffer();
        status = response.status;
      } catch {
        // refused, reset or timed out
      }
      samples.push({ at: Date.now(), status });
      await sleep(everyMs);
    }
  })();
  const first = (status: ReadinessSample["status"], since: number) =>
    samples.find((sample) => sample.at >= since && sample.status === status);
  return {
    samples,
    first,
    waitFor: (status, since, timeoutMs = 15_000) =>
      waitFor(() => first(status, since), { timeoutMs, what: `${url} to answer ${status}` }).catch(
        (error: Error) => {
          const seen = samples.filter((sample) => sample.at >= since).map((sample) => sample.status);
          throw new Error(`${error.message}; it answered ${seen.join(", ")}`);
        },
      ),
    async stop() {
      stopped = true;
      await loop;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Figures

/**
 * Appends one scenario's figures as a JSON line to the file named by `WARD_REPORT`, when set:
 * what the README's reliability table is made from.
 *
 * @example
 * recordFigures("redis_outage", { readiness_flip_ms: 240, requests_failed: 0 });
 */
export function recordFigures(scenario: string, figures: Record<string, unknown>): void {
  const path = process.env.WARD_REPORT;
  if (path) appendFileSync(path, `${JSON.stringify({ scenario, ...figures })}\n`);
}

/**
 * How the tasks' notifications fared at the receiver: tasks with none (lost), tasks announced
 * under more than one key (notified twice), and calls repeating a key already answered 2xx
 * (redeliveries, which a receiver dropping repeated keys ignores).
 *
 * @example
 * const { lost, notifiedTwice } = notificationFigures(receiver, load.created());
 */
export function notificationFigures(receiver: Receiver, taskIds: readonly string[]) {
  const lost = taskIds.filter((id) => receiver.keysForTask(id).size === 0);
  const notifiedTwice = taskIds.filter((id) => receiver.keysForTask(id).size > 1);
  const redeliveries = [...receiver.handled().values()].reduce((sum, calls) => sum + calls.length - 1, 0);
  return { lost, notifiedTwice, redeliveries };
}
