import type { ServerType } from "@hono/node-server";
import type { ServerResponse } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "pino";
import type { Readiness } from "../health/index.js";

export interface LifecycleOptions {
  logger: Logger;
  /** Turned "not ready" the moment shutdown begins. */
  readiness?: Readiness;
  /**
   * How long to keep serving after readiness turns 503, so Kubernetes takes the pod out of its
   * Service before the server stops accepting. Default 5000 ms (SHUTDOWN_DELAY_MS).
   */
  shutdownDelayMs?: number;
  /** Hard deadline for the whole shutdown, delay included; then exit 1. Default 25000 ms (SHUTDOWN_TIMEOUT_MS). */
  shutdownTimeoutMs?: number;
  /** Called with an uncaught exception or unhandled rejection before shutting down (e.g. to report it). */
  onFatal?: (error: unknown) => unknown;
  /** Ends the process. Default `process.exit`. */
  exit?: (code: number) => void;
}

export interface Lifecycle {
  /** Stops the server accepting after the delay and waits for its in-flight requests. */
  trackServer(server: ServerType): this;
  /** In-flight work to wait for once the delay is over, alongside requests (e.g. the consumer loop's `stop()`). */
  onDrain(name: string, drain: () => unknown): this;
  /** A resource to close once everything has drained; they close one by one, last registered first. */
  onShutdown(name: string, close: () => unknown): this;
  /** Shuts down on SIGTERM and SIGINT, and on an uncaught exception or unhandled rejection (exit 1). */
  handleSignals(): this;
  /** Shuts down now; every later call gets the same shutdown. Ends by calling `exit`. */
  shutdown(reason: string): Promise<void>;
  /** Whether shutdown has begun. */
  readonly isShuttingDown: boolean;
}

interface Step {
  name: string;
  run: () => unknown;
}

const SIGNALS = ["SIGTERM", "SIGINT"] as const;

/**
 * Graceful shutdown, in the order Kubernetes needs: readiness 503 at once, and every answer from
 * then on closes its connection (`Connection: close`); after `shutdownDelayMs` the servers stop
 * accepting; in-flight requests and registered work finish; resources close in
 * reverse order of registration; exit 0. Past `shutdownTimeoutMs`, counted from the signal with
 * the delay included, it logs `shutdown_timed_out` and exits 1. A second signal during shutdown is logged and ignored: the deadline already bounds
 * the wait, and local runners (pnpm, tsx, concurrently) often deliver one Ctrl-C twice.
 *
 * @example
 * const lifecycle = createLifecycle({ logger, readiness, shutdownDelayMs, shutdownTimeoutMs }).handleSignals();
 * lifecycle.onShutdown("postgres", () => sql.end({ timeout: 5 }));
 * lifecycle.onShutdown("redis", () => redis.quit());
 * lifecycle.trackServer(serve({ fetch: app.fetch, port }));
 * lifecycle.onDrain("consumer", () => consumer.stop());
 */
export function createLifecycle(options: LifecycleOptions): Lifecycle {
  const { logger, readiness, onFatal } = options;
  const delayMs = options.shutdownDelayMs ?? 5_000;
  const timeoutMs = options.shutdownTimeoutMs ?? 25_000;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const servers: ServerType[] = [];
  const drains: Step[] = [];
  const resources: Step[] = [];
  const pending = new Set<string>();
  let shuttingDown: Promise<void> | undefined;
  // Set once the delay is over and the servers stop accepting.
  let closing = false;
  let signalsHandled = false;
  let exitCode = 0;
  let exited = false;

  function end(code: number): void {
    if (exited) return;
    exited = true;
    exit(code);
  }

  async function step(name: string, run: () => unknown): Promise<void> {
    const started = performance.now();
    pending.add(name);
    logger.debug({ step: name }, "shutdown_step_started");
    try {
      await run();
      logger.info({ step: name, duration_ms: elapsed(started) }, "shutdown_step_completed");
    } catch (err) {
      exitCode = 1;
      logger.error({ step: name, err }, "shutdown_step_failed");
    } finally {
      pending.delete(name);
    }
  }

  async function run(reason: string, fatalError?: { error: unknown }): Promise<void> {
    const started = performance.now();
    const cause = reason.startsWith("SIG") ? { signal: reason } : { reason };
    logger.info({ ...cause, delay_ms: delayMs, timeout_ms: timeoutMs }, "shutdown_started");
    readiness?.shutDown();
    // Ref'd on purpose: if every step hangs on a promise that nothing drives, the process must
    // still end here with 1, not drift out of the event loop with 0.
    const deadline = setTimeout(() => {
      logger.error({ duration_ms: elapsed(started), pending: [...pending] }, "shutdown_timed_out");
      end(1);
    }, timeoutMs);

    if (fatalError && onFatal) await step("on_fatal", () => onFatal(fatalError.error));
    // After a crash, restarting soon matters more than a smooth hand-over.
    if (!fatalError && delayMs > 0) await step("delay", () => sleep(delayMs));
    closing = true;
    await Promise.all([
      ...servers.map((server, i) =>
        step(servers.length > 1 ? `server_${i + 1}` : "server", () => close(server)),
      ),
      ...drains.map(({ name, run }) => step(`drain:${name}`, run)),
    ]);
    for (const { name, run } of [...resources].reverse()) await step(`close:${name}`, run);

    clearTimeout(deadline);
    if (exited) return;
    logger.info({ duration_ms: elapsed(started), exit_code: exitCode }, "shutdown_completed");
    end(exitCode);
  }

  function shutdown(reason: string, fatalError?: { error: unknown }): Promise<void> {
    shuttingDown ??= run(reason, fatalError);
    return shuttingDown;
  }

  function onSignal(signal: NodeJS.Signals): void {
    if (shuttingDown) logger.warn({ signal }, "shutdown_signal_ignored");
    else void shutdown(signal);
  }

  function onCrash(event: "uncaught_exception" | "unhandled_rejection") {
    return (error: unknown) => {
      logger.fatal({ err: error }, event);
      exitCode = 1;
      void shutdown(event, { error });
    };
  }

  return {
    trackServer(server) {
      servers.push(server);
      // Prepended, so it runs before the app can answer. During the delay the server keeps
      // serving, but each answer asks the client to drop its keep-alive connection: closing
      // one under a client that is reusing it would fail that client's request.
      server.prependListener("request", (_request: unknown, response: ServerResponse) => {
        if (shuttingDown && !response.headersSent) response.setHeader("Connection", "close");
        // Node's server.close() drops the connections idle at that moment only; a keep-alive
        // connection whose request was in flight would then hold the shutdown until its timeout.
        response.once("finish", () => {
          if (closing) closeIdleConnections(server);
        });
      });
      return this;
    },
    onDrain(name, drain) {
      drains.push({ name, run: drain });
      return this;
    },
    onShutdown(name, closeResource) {
      resources.push({ name, run: closeResource });
      return this;
    },
    handleSignals() {
      if (signalsHandled) return this;
      signalsHandled = true;
      for (const signal of SIGNALS) process.on(signal, onSignal);
      process.on("uncaughtException", onCrash("uncaught_exception"));
      process.on("unhandledRejection", onCrash("unhandled_rejection"));
      return this;
    },
    shutdown: (reason) => shutdown(reason),
    get isShuttingDown() {
      return shuttingDown !== undefined;
    },
  };
}

/** Stops accepting connections and resolves once the open ones have finished their requests. */
function close(server: ServerType): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((error?: Error & { code?: string }) => {
      if (error && error.code !== "ERR_SERVER_NOT_RUNNING") reject(error);
      else resolve();
    });
    closeIdleConnections(server);
  });
}

function closeIdleConnections(server: ServerType): void {
  if ("closeIdleConnections" in server) server.closeIdleConnections();
}

function elapsed(since: number): number {
  return Math.round(performance.now() - since);
}
