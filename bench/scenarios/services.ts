import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { closeSync, openSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { sign } from "hono/jwt";
import postgres from "postgres";
import { createTestDatabase, freePort, TEST_REDIS_URL, testKeySpace } from "@ward/shared/testing";
import { median, type VariantFigures } from "../lib/compare.js";
import { loadTest, type LoadFigures } from "../lib/load.js";
import { ROOT, rssMb, stopProcess, waitForOk } from "../lib/processes.js";
import { measureOutbox, type OutboxFigures } from "./outbox.js";
import type { BenchSettings } from "./settings.js";

const SERVICES = ["gateway", "worker"] as const;
type Service = (typeof SERVICES)[number];

// Fresh each run: the services refuse the placeholders of .env.example.
const JWT_SECRET = randomBytes(24).toString("hex");
const WORKER_TOKEN = randomBytes(24).toString("hex");
const DRAIN_TIMEOUT_MS = 60_000;

export interface ServiceFigures {
  /** Spawn to `/readyz` 200, in ms, each run and the median. */
  coldStart: Record<Service, { runs: number[]; median: number; phases: StartupPhases }>;
  /** `POST /api/v1/tasks` on the gateway (PostgreSQL, outbox, worker behind it). */
  createTask: VariantFigures;
  /** `POST /v1/notifications` straight to the worker, then its queue drained. */
  worker: {
    accept: LoadFigures;
    /** Jobs accepted but not yet delivered when the burst ended. */
    backlog: number;
    /** Jobs taken from the stream and stored as delivered per second, once the burst ended. */
    drainPerSecond: number;
    /** Whether every accepted job was delivered within the time limit. */
    drained: boolean;
  };
  /** The outbox relay against the gateway at saturation, on a fresh table and an aged one. */
  outbox: OutboxFigures;
  /** Resident set size after the load, in MB. */
  rssMb: Record<Service, number>;
}

/**
 * Where start-up goes, medians in ms: from process start to the end of main.ts's imports (Node
 * itself, instrument.ts, every module), reading the settings, creating everything up to the
 * listening server, and from there to the first `/readyz` 200 (PostgreSQL and Redis connected).
 */
export interface StartupPhases {
  imports: number;
  settings: number;
  setUp: number;
  firstReadiness: number;
}

interface RunningService {
  child: ChildProcess;
  url: string;
  /** ms from spawn to `/readyz` 200. */
  readyMs: number;
}

/**
 * The real built services over real PostgreSQL and Redis: cold start, a burst of task creation
 * through the gateway, a burst of notifications straight to the worker and how fast it drains
 * them, and the memory of both afterwards. A fresh database and Redis key prefix, removed after.
 *
 * @example
 * const figures = await measureServices(settings);
 */
export async function measureServices(settings: BenchSettings): Promise<ServiceFigures> {
  const { progress } = settings;
  const db = await createTestDatabase();
  const keys = testKeySpace();
  const sql = postgres(db.url, { max: 2, onnotice: () => {} });
  const running: RunningService[] = [];
  const base = {
    ENVIRONMENT: "production",
    DATABASE_URL: db.url,
    REDIS_URL: TEST_REDIS_URL,
    REDIS_KEY_PREFIX: keys.prefix,
    WORKER_TOKEN,
    JWT_SECRET,
    SHUTDOWN_DELAY_MS: "0",
    ...(settings.nodeOptions && { NODE_OPTIONS: settings.nodeOptions }),
  };
  const start = async (service: Service, extra: Record<string, string> = {}, log = "/dev/null") => {
    const port = await freePort();
    const started = await startService(service, { ...base, ...extra, PORT: String(port) }, log);
    running.push(started);
    return started;
  };
  try {
    for (const service of SERVICES) await migrate(service, base);

    progress("  cold start");
    const coldRuns: Record<Service, number[]> = { gateway: [], worker: [] };
    const phaseRuns: Record<Service, StartupPhases[]> = { gateway: [], worker: [] };
    for (let run = 0; run < Math.max(settings.rounds, 5); run++) {
      for (const service of run % 2 ? [...SERVICES].reverse() : SERVICES) {
        const log = join(settings.scratch, `${service}-start.log`);
        const started = await start(service, { WORKER_URL: "http://127.0.0.1:9" }, log);
        coldRuns[service].push(started.readyMs);
        await stopProcess(started.child);
        phaseRuns[service].push(startupPhases(readFileSync(log, "utf8"), started.readyMs));
      }
    }

    const worker = await start("worker", {}, join(settings.scratch, "worker.log"));
    const gateway = await start("gateway", { WORKER_URL: worker.url }, join(settings.scratch, "gateway.log"));

    progress("  worker: accept burst, then drain");
    const accept = await loadTest(`${worker.url}/v1/notifications`, {
      duration: settings.duration,
      connections: settings.connections,
      method: "POST",
      eachRequest: (request) => ({ ...request, ...notificationRequest() }),
    });
    const atBurstEnd = await notificationCounts(sql);
    const drainStart = performance.now();
    const drained = await waitUntil(async () => {
      const counts = await notificationCounts(sql);
      return counts.delivered >= counts.accepted;
    });
    const drainSeconds = (performance.now() - drainStart) / 1000;
    const afterDrain = await notificationCounts(sql);

    progress("  gateway: POST /api/v1/tasks");
    const token = await sign(
      { sub: "bench-user", org_id: "bench-org", exp: Math.floor(Date.now() / 1000) + 3600 },
      JWT_SECRET,
      "HS256",
    );
    const createTask = async (duration: number) =>
      loadTest(`${gateway.url}/api/v1/tasks`, {
        duration,
        connections: settings.connections,
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ title: "Benchmark task" }),
      });
    await createTask(settings.warmUp);
    const outbox = await measureOutbox(sql, settings.rounds, () => createTask(settings.duration), progress);
    const taskRuns: LoadFigures[] = outbox.fresh.rounds.map((round) => round.load);

    return {
      coldStart: {
        gateway: {
          runs: coldRuns.gateway,
          median: median(coldRuns.gateway),
          phases: medianPhases(phaseRuns.gateway),
        },
        worker: {
          runs: coldRuns.worker,
          median: median(coldRuns.worker),
          phases: medianPhases(phaseRuns.worker),
        },
      },
      createTask: {
        runs: taskRuns,
        median: {
          rps: median(taskRuns.map((run) => run.rps)),
          p50: median(taskRuns.map((run) => run.p50)),
          p99: median(taskRuns.map((run) => run.p99)),
          requests: median(taskRuns.map((run) => run.requests)),
          errors: taskRuns.reduce((sum, run) => sum + run.errors, 0),
        },
      },
      worker: {
        accept,
        backlog: atBurstEnd.accepted - atBurstEnd.delivered,
        drainPerSecond: (afterDrain.delivered - atBurstEnd.delivered) / drainSeconds,
        drained,
      },
      outbox,
      rssMb: { gateway: rssMb(gateway.child.pid!), worker: rssMb(worker.child.pid!) },
    };
  } finally {
    await Promise.all(running.map((service) => stopProcess(service.child)));
    await sql.end({ timeout: 5 });
    await db.drop();
    await keys.clean();
  }
}

/** Runs a service's built migrations against the bench database. */
async function migrate(service: Service, env: Record<string, string>): Promise<void> {
  const child = spawn(process.execPath, ["dist/migrate.js"], {
    cwd: `${ROOT}services/${service}`,
    env: { PATH: process.env.PATH, ...env, LOG_LEVEL: "warn" },
    stdio: ["ignore", "inherit", "inherit"],
  });
  const code = await new Promise((resolve) => child.once("exit", resolve));
  if (code !== 0) throw new Error(`${service} migrations failed (exit ${String(code)})`);
}

/** Spawns a built service exactly as its image does and waits for `/readyz` 200. */
async function startService(
  service: Service,
  env: Record<string, string>,
  logFile: string,
): Promise<RunningService> {
  const log = openSync(logFile, "w");
  const started = performance.now();
  const child = spawn(process.execPath, ["--import", "./dist/instrument.js", "dist/main.js"], {
    cwd: `${ROOT}services/${service}`,
    env: { PATH: process.env.PATH, ...env },
    stdio: ["ignore", log, "inherit"],
  });
  closeSync(log);
  const url = `http://127.0.0.1:${env.PORT}`;
  const exited = new Promise<never>((_, reject) =>
    child.once("exit", (code) =>
      reject(new Error(`${service} exited with ${String(code)} before it was ready`)),
    ),
  );
  const readyMs = await Promise.race([waitForOk(`${url}/readyz`, started), exited]);
  child.removeAllListeners("exit");
  return { child, url, readyMs };
}

/** The phases of one start from the `startup_ms` marks of its `server_listening` line. */
function startupPhases(log: string, readyMs: number): StartupPhases {
  const line = log
    .split("\n")
    .map((text) => (text.startsWith("{") ? (JSON.parse(text) as Record<string, unknown>) : {}))
    .find((entry) => entry.event === "server_listening");
  const marks = line?.startup_ms as { imports: number; settings: number; listening: number } | undefined;
  if (!marks) throw new Error("no server_listening line with startup_ms in the service's log");
  return {
    imports: marks.imports,
    settings: marks.settings - marks.imports,
    setUp: marks.listening - marks.settings,
    firstReadiness: readyMs - marks.listening,
  };
}

function medianPhases(runs: StartupPhases[]): StartupPhases {
  const of = (key: keyof StartupPhases) => median(runs.map((run) => run[key]));
  return {
    imports: of("imports"),
    settings: of("settings"),
    setUp: of("setUp"),
    firstReadiness: of("firstReadiness"),
  };
}

/** A fresh notification as the gateway's relay would send it. */
function notificationRequest() {
  const id = randomUUID();
  return {
    method: "POST" as const,
    path: "/v1/notifications",
    headers: {
      authorization: `Bearer ${WORKER_TOKEN}`,
      "content-type": "application/json",
      "idempotency-key": `${id}:task.created`,
    },
    body: JSON.stringify({
      event: "task.created",
      org_id: "bench-org",
      task: { id, title: "Benchmark task", status: "open" },
    }),
  };
}

async function notificationCounts(sql: postgres.Sql): Promise<{ accepted: number; delivered: number }> {
  const [row] = await sql<{ accepted: number; delivered: number }[]>`
    select count(*)::int as accepted, (count(*) filter (where status = 'delivered'))::int as delivered
    from notifications`;
  return row!;
}

/** Polls `done` every 50 ms; false when it is still not true after `timeoutMs`. */
async function waitUntil(done: () => Promise<boolean>, timeoutMs = DRAIN_TIMEOUT_MS): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (await done()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}
