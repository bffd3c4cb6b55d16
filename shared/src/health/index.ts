import { Hono } from "hono";
import { createFailureLog, type FailureLog, type Logger } from "../logging/index.js";

/**
 * One readiness check: it passes when it resolves, fails when it throws, rejects, resolves `false`
 * or outlasts its timeout. `signal` aborts at the timeout, for checks that can cancel their work.
 */
export type ReadinessCheck = (signal: AbortSignal) => unknown;

export interface ReadinessOptions {
  /** Logs `readiness_check_failed` and `readiness_check_recovered`, once per change. */
  logger: Logger;
  /** How long each check may take, unless it sets its own. Default 1500 ms. */
  timeoutMs?: number;
}

export interface CheckOptions {
  /** How long this check may take. Default: the readiness `timeoutMs`. */
  timeoutMs?: number;
}

/** The body of `GET /readyz`; `checks` maps each check to "ok" or "failed: <ErrorName>". */
export interface ReadinessReport {
  status: "ready" | "not_ready";
  shutting_down?: true;
  checks: Record<string, string>;
}

export interface Readiness {
  /** Registers a named check, run on every probe. Names are unique. */
  check(name: string, fn: ReadinessCheck, options?: CheckOptions): this;
  /** Runs every check in parallel, each under its timeout; answers at once while shutting down. */
  probe(): Promise<ReadinessReport>;
  /** From now on the service is not ready, whatever the checks say: shutdown has begun. */
  shutDown(): void;
  /** Whether `shutDown()` has been called. */
  readonly isShuttingDown: boolean;
}

const OK = "ok";
// Error names are code-defined, but a name is still output: keep it short and harmless.
const SAFE_NAME = /^[A-Za-z][A-Za-z0-9_.]{0,63}$/;

class TimeoutError extends Error {
  override name = "TimeoutError";
}

class CheckReturnedFalse extends Error {
  override name = "NotReady";
}

/**
 * A readiness registry: named checks of the service's dependencies, run in parallel, each under
 * its own timeout. A hung check answers `failed: TimeoutError` and is then ignored. A failure
 * shows only the error's name (its message could hold a connection string).
 *
 * @example
 * const readiness = createReadiness({ logger });
 * readiness
 *   .check("postgres", () => sql`select 1`)
 *   .check("redis", () => redis.ping())
 *   .check("consumer", () => consumer.isRunning, { timeoutMs: 500 });
 * app.route("/", healthRoutes(readiness));
 */
export function createReadiness(options: ReadinessOptions): Readiness {
  const { logger } = options;
  const defaultTimeoutMs = options.timeoutMs ?? 1500;
  const checks = new Map<string, { fn: ReadinessCheck; timeoutMs: number }>();
  // Per check, so a failure is logged when it starts (or changes kind), not on every probe.
  const failureLogs = new Map<string, FailureLog>();
  const failureLogOf = (name: string): FailureLog => {
    let log = failureLogs.get(name);
    if (!log) {
      const events = { failed: "readiness_check_failed", recovered: "readiness_check_recovered" };
      log = createFailureLog(logger, { ...events, fields: { check: name } });
      failureLogs.set(name, log);
    }
    return log;
  };
  let shuttingDown = false;

  async function run(name: string, fn: ReadinessCheck, timeoutMs: number): Promise<string> {
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const error = new TimeoutError(`readiness check "${name}" took longer than ${timeoutMs} ms`);
        controller.abort(error);
        reject(error);
      }, timeoutMs);
    });
    // new Promise() turns a synchronous throw into a rejection too.
    const checked = new Promise((resolve) => resolve(fn(controller.signal)));
    let result: string;
    let error: unknown;
    try {
      const value = await Promise.race([checked, timedOut]);
      if (value === false) throw new CheckReturnedFalse(`"${name}" is not ready`);
      result = OK;
    } catch (caught) {
      error = caught;
      result = `failed: ${errorName(caught)}`;
    } finally {
      clearTimeout(timer);
    }
    if (result === OK) failureLogOf(name).succeeded();
    else failureLogOf(name).failed(error, { result }, result);
    return result;
  }

  return {
    check(name, fn, checkOptions) {
      if (checks.has(name)) throw new Error(`readiness check "${name}" is already registered`);
      checks.set(name, { fn, timeoutMs: checkOptions?.timeoutMs ?? defaultTimeoutMs });
      return this;
    },

    async probe() {
      if (shuttingDown) return { status: "not_ready", shutting_down: true, checks: {} };
      const results = await Promise.all(
        [...checks].map(async ([name, { fn, timeoutMs }]) => [name, await run(name, fn, timeoutMs)] as const),
      );
      const ready = results.every(([, result]) => result === OK);
      return { status: ready ? "ready" : "not_ready", checks: Object.fromEntries(results) };
    },

    shutDown() {
      shuttingDown = true;
    },

    get isShuttingDown() {
      return shuttingDown;
    },
  };
}

function errorName(error: unknown): string {
  const name = error instanceof Error ? error.name : undefined;
  return name && SAFE_NAME.test(name) ? name : "Error";
}

/**
 * The health endpoints: `GET /healthz` (liveness: the process answers, 200 `{"status":"ok"}`)
 * and `GET /readyz` (readiness: 200 when every check passes, else 503).
 *
 * @example
 * app.route("/", healthRoutes(readiness));
 */
export function healthRoutes(readiness: Readiness): Hono {
  const routes = new Hono();
  routes.get("/healthz", (c) => {
    c.header("Cache-Control", "no-store");
    return c.json({ status: "ok" });
  });
  routes.get("/readyz", async (c) => {
    const report = await readiness.probe();
    c.header("Cache-Control", "no-store");
    return c.json(report, report.status === "ready" ? 200 : 503);
  });
  return routes;
}
