/**
 * The built services as the image runs them (`node --import ./dist/instrument.js dist/main.js`
 * from the package folder), for every test that starts real processes.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  startListening,
  startProcess,
  waitFor,
  type LogLine,
  type RunningProcess,
} from "@ward/shared/testing";

export type ServiceName = "gateway" | "worker";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** Longer than any graceful shutdown in these tests should take. */
const STOP_DEADLINE_MS = 20_000;

/** How the image starts a service, from its package folder. */
const SERVICE_ARGS = ["--import", "./dist/instrument.js", "dist/main.js"];

/** Tests of the built services say so plainly when nothing is built. */
export function requireBuilt(): void {
  for (const file of ["services/gateway/dist/main.js", "services/worker/dist/main.js", "shared/dist"]) {
    if (!existsSync(join(ROOT, file))) {
      throw new Error(
        `${file} is missing: these tests run the built services. Run \`pnpm build\` first ` +
          "(`pnpm test` builds before it runs the tests).",
      );
    }
  }
}

/** Starts a service's migrations as the chart's hook Job does (`node dist/migrate.js`). */
export function startBuiltMigration(name: ServiceName, env: Record<string, string>): RunningProcess {
  return startProcess(process.execPath, ["dist/migrate.js"], { cwd: folderOf(name), env });
}

/** Runs a service's migrations (`node dist/migrate.js`) and resolves once they exited 0. */
export async function migrateBuilt(name: ServiceName, env: Record<string, string>): Promise<RunningProcess> {
  const run = await runBuiltMigrations(name, env);
  const code = await run.exited;
  if (code !== 0) throw new Error(`the ${name} migrations exited ${code}:\n${run.logs.text()}`);
  return run;
}

/**
 * Runs a service's migrations with exactly `env` and resolves with the finished process, whatever
 * its exit code: for tests of a migration that must fail.
 *
 * @example
 * const run = await runBuiltMigrations("gateway", { DATABASE_URL }); expect(await run.exited).toBe(1);
 */
export function runBuiltMigrations(name: ServiceName, env: Record<string, string>): Promise<RunningProcess> {
  requireBuilt();
  return ended(startBuiltMigration(name, env));
}

/**
 * Runs a service that should refuse to start, with exactly `env`; resolves with the finished
 * process (killed if it has not exited within the stop deadline).
 *
 * @example
 * const run = await runBuiltUntilExit("gateway", { JWT_SECRET: "short" }); expect(await run.exited).toBe(78);
 */
export function runBuiltUntilExit(name: ServiceName, env: Record<string, string>): Promise<RunningProcess> {
  requireBuilt();
  return ended(startProcess(process.execPath, SERVICE_ARGS, { cwd: folderOf(name), env }));
}

/** Resolves with `run` once it has ended, killing it if it outlives the stop deadline. */
async function ended(run: RunningProcess): Promise<RunningProcess> {
  const timer = setTimeout(() => run.child.kill("SIGKILL"), STOP_DEADLINE_MS);
  await run.exited;
  clearTimeout(timer);
  return run;
}

/** One built service: its address, every process run of it so far, and how to start and stop it. */
export interface Service {
  name: ServiceName;
  /** `http://127.0.0.1:<port>`; the port is chosen by the first `start()` and kept by restarts. */
  readonly url: string;
  /** Every process started for this service, oldest first (a restarted worker has two). */
  runs: RunningProcess[];
  /** The running process; throws when there is none. */
  current(): RunningProcess;
  /**
   * Starts a process and waits until it listens and (unless `ready: false`, for a service that
   * is meant to stay unready) `/readyz` answers 200.
   */
  start(options?: { ready?: boolean }): Promise<RunningProcess>;
  /** SIGTERM to the running process; resolves with its exit code ("SIGKILL" when it would not stop). */
  stop(): Promise<number | string>;
  /** Sends `signal` to the running process and resolves with its exit code once it has ended. */
  kill(signal: NodeJS.Signals): Promise<number | string>;
  /** The JSON log lines of every run, in order. */
  lines(): LogLine[];
  /** The raw stdout of every run, concatenated: what `kubectl logs` of its pod would show. */
  stdout(): string;
}

/**
 * A built service with exactly `env` (PORT aside; a function is read at each start, so it can name
 * another service's address): the first `start()` picks a free port, and a port another process
 * binds first is retried on a new one; later starts keep the address.
 *
 * @example
 * const worker = builtService("worker", env); await worker.start();
 * const gateway = builtService("gateway", () => ({ ...env, WORKER_URL: worker.url }));
 * await gateway.start();
 */
export function builtService(
  name: ServiceName,
  env: Record<string, string> | (() => Record<string, string>),
): Service {
  const runs: RunningProcess[] = [];
  let port: number | undefined;
  const running = () => {
    const last = runs.at(-1);
    return last && last.child.exitCode === null && last.child.signalCode === null ? last : undefined;
  };
  const launch = (at: number) =>
    startProcess(process.execPath, SERVICE_ARGS, {
      cwd: folderOf(name),
      env: { ...(typeof env === "function" ? env() : env), PORT: String(at) },
    });
  const service: Service = {
    name,
    get url() {
      if (port === undefined) throw new Error(`the ${name} has not been started yet`);
      return `http://127.0.0.1:${port}`;
    },
    runs,
    current() {
      const run = running();
      if (!run) throw new Error(`the ${name} is not running`);
      return run;
    },
    async start({ ready = true } = {}) {
      if (running()) throw new Error(`the ${name} is already running`);
      let run: RunningProcess;
      if (port === undefined) {
        ({ run, port } = await startListening(launch));
        runs.push(run);
      } else {
        run = launch(port);
        runs.push(run);
        await run.waitForLog((line) => line.event === "server_listening");
      }
      if (!ready) return run;
      await waitFor(async () => (await fetch(`${service.url}/readyz`)).status === 200, {
        what: `${name} /readyz to answer 200`,
      });
      return run;
    },
    async stop() {
      const run = service.current();
      const timer = setTimeout(() => run.child.kill("SIGKILL"), STOP_DEADLINE_MS);
      // A process that had to be killed reports "SIGKILL", which no test expects.
      const exit = await run.stop("SIGTERM");
      clearTimeout(timer);
      return exit;
    },
    kill(signal) {
      return service.current().stop(signal);
    },
    lines: () => runs.flatMap((run) => run.logs.lines),
    stdout: () => runs.map((run) => `${run.logs.text()}\n`).join(""),
  };
  return service;
}

function folderOf(name: ServiceName): string {
  return join(ROOT, "services", name);
}
