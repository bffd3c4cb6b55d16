/**
 * One dependency outage under load, as the Redis and PostgreSQL tests both play it: steady task
 * load on the pair, the dependency stopped, kept away for a while, started again, the load
 * stopped, and every accepted task's notification awaited. Everything seen is kept for the tests.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { waitFor, type WebhookReceiver } from "@ward/shared/testing";
import { startTaskLoad, type Outcome } from "./load.js";
import type { FaultPair, ServiceName } from "./pair.js";
import { watch, type ReadinessSample } from "./readiness.js";

export interface OutageOptions {
  pair: FaultPair;
  receiver: WebhookReceiver;
  /** Stops the dependency. */
  breakIt(): Promise<void>;
  /** Starts it again. */
  repairIt(): Promise<void>;
  /** How long the dependency stays away. Default 3 s. */
  outageMs?: number;
}

export interface OutageObservations {
  /** When the dependency was stopped and started again (Date.now()). */
  brokenAt: number;
  repairedAt: number;
  /** Per service: the first /readyz 503 after the outage began, and the first 200 after it ended. */
  unready: Record<ServiceName, ReadinessSample>;
  readyAgain: Record<ServiceName, ReadinessSample>;
  /** Every /healthz answer during the test, per service. */
  health: Record<ServiceName, ReadinessSample[]>;
  outcomes: Outcome[];
  /** Tasks created (201), and those whose create was sent while the dependency was away. */
  created: string[];
  createdDuringOutage: string[];
  /** Whether every task was notified and every notification row delivered before the wait ran out. */
  allNotified: boolean;
}

const SERVICES = ["gateway", "worker"] as const;

/**
 * Plays the outage and returns what was observed.
 *
 * @example
 * const seen = await playOutage({ pair, receiver, breakIt: () => redis.stop(), repairIt: () => redis.start() });
 */
export async function playOutage(options: OutageOptions): Promise<OutageObservations> {
  const { pair, receiver, outageMs = 3000 } = options;
  const readyz = { gateway: watch(`${pair.gateway.url}/readyz`), worker: watch(`${pair.worker.url}/readyz`) };
  const healthz = {
    gateway: watch(`${pair.gateway.url}/healthz`, 200),
    worker: watch(`${pair.worker.url}/healthz`, 200),
  };
  const load = startTaskLoad(pair, { concurrency: 2, pauseMs: 50, maxRequests: 2000, maxMs: 60_000 });
  try {
    await waitFor(() => load.outcomes.length >= 10, { what: "the load to be under way" });
    const brokenAt = Date.now();
    await options.breakIt();
    const unready = {
      gateway: await readyz.gateway.waitFor(503, brokenAt),
      worker: await readyz.worker.waitFor(503, brokenAt),
    };
    await sleep(Math.max(0, brokenAt + outageMs - Date.now()));
    // However slow the machine, the load meets the outage before it ends.
    await waitFor(
      () => load.outcomes.filter((o) => o.kind === "create" && o.sentAt >= brokenAt).length >= 8,
      {
        timeoutMs: 30_000,
        what: "8 tasks created (or refused) during the outage",
      },
    );
    const repairedAt = Date.now();
    await options.repairIt();
    const readyAgain = {
      gateway: await readyz.gateway.waitFor(200, repairedAt, 30_000),
      worker: await readyz.worker.waitFor(200, repairedAt, 30_000),
    };
    // ... and goes on after the recovery, until it has been served again.
    await waitFor(() => load.outcomes.filter((o) => o.sentAt >= repairedAt).length >= 10, {
      timeoutMs: 30_000,
      what: "10 requests answered after the recovery",
    });
    const outcomes = await load.stop();
    const created = load.created();
    const createdDuringOutage = outcomes
      .filter((o) => o.kind === "create" && o.taskId && o.sentAt >= brokenAt && o.sentAt < repairedAt)
      .map((o) => o.taskId!);
    const allNotified = await settled(pair, receiver, created);
    return {
      brokenAt,
      repairedAt,
      unready,
      readyAgain,
      health: { gateway: healthz.gateway.samples, worker: healthz.worker.samples },
      outcomes,
      created,
      createdDuringOutage,
      allNotified,
    };
  } catch (error) {
    // Say what each service was doing: a process that died is the likeliest reason for a wait that failed.
    throw new Error(
      `${(error as Error).message}\n${SERVICES.map((name) => lastWords(pair, name)).join("\n")}`,
      {
        cause: error,
      },
    );
  } finally {
    await load.stop();
    await Promise.all([...SERVICES.map((s) => readyz[s].stop()), ...SERVICES.map((s) => healthz[s].stop())]);
  }
}

/**
 * Waits (up to 30 s) until every task has a notification at the receiver and every notification
 * row is delivered; false if that never happens.
 *
 * @example
 * expect(await settled(pair, receiver, load.created())).toBe(true);
 */
export async function settled(
  pair: FaultPair,
  receiver: WebhookReceiver,
  taskIds: readonly string[],
): Promise<boolean> {
  return waitFor(
    async () => {
      if (!taskIds.every((id) => receiver.keysForTask(id).size > 0)) return false;
      const rows = await pair.notifications();
      return rows.length >= taskIds.length && rows.every((row) => row.status === "delivered");
    },
    { timeoutMs: 30_000, intervalMs: 200, what: "every task notified and every notification delivered" },
  ).catch(() => false);
}

/** Whether a service's last process still runs, and the last lines it wrote. */
function lastWords(pair: FaultPair, name: (typeof SERVICES)[number]): string {
  const run = pair[name].runs.at(-1);
  if (!run) return `--- the ${name} never started`;
  const state = run.child.exitCode ?? run.child.signalCode ?? "still running";
  const tail = (text: string) => text.split("\n").slice(-15).join("\n");
  return `--- the ${name} (${state}), last stdout lines:\n${tail(run.logs.text())}\n--- stderr:\n${tail(run.stderr.text())}`;
}
