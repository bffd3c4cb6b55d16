/** A bounded task load on the pair, every request's outcome kept. */
import { setTimeout as sleep } from "node:timers/promises";
import type { FaultPair } from "./pair.js";

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
