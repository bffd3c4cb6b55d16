import { withCorrelation } from "@ward/shared/correlation";
import { reportError } from "@ward/shared/errors";
import type { Logger } from "@ward/shared/logging";
import type { Sql } from "@ward/shared/postgres";
import type { Dispatcher } from "undici";
import { claimDueEntry, markDelivered, markRejected, scheduleRetry, type OutboxEntry } from "./store.js";

export interface OutboxRelayOptions {
  sql: Sql;
  /** The worker's connection pool (`createServiceClient(WORKER_URL)`). */
  worker: Dispatcher;
  /** Sent as `Authorization: Bearer <token>`. */
  workerToken: string;
  logger: Logger;
  /** How often to look for due entries when nothing kicks the relay. Default 1000 ms. */
  pollIntervalMs?: number;
  /** Wait after the first failed attempt; it doubles with each further failure. Default 1000 ms. */
  retryBaseMs?: number;
  /** Longest wait between attempts. Default 30000 ms. */
  retryMaxMs?: number;
  /**
   * Most deliveries in flight at once, each holding one PostgreSQL connection for its HTTP call.
   * Default 4: with the pool of 10, requests keep 6 connections even while a slow worker holds
   * every delivery for its whole timeout (4 in flight: ~250 notifications/s, 3× one at a time).
   */
  concurrency?: number;
}

export interface OutboxRelay {
  /** Starts delivering: now, every poll interval, and whenever kicked. */
  start(): this;
  /** Asks for a delivery pass soon (after a commit that wrote an entry); never waits for it. */
  kick(): void;
  /** Delivers every due entry no other relay holds, several at once; resolves to how many it attempted. */
  deliverDue(): Promise<number>;
  /** Stops after every delivery in flight has finished and been recorded. */
  stop(): Promise<void>;
}

type Outcome =
  | { kind: "delivered"; statusCode: number; notificationId?: string }
  | { kind: "retry"; statusCode?: number; error: string; err: Error }
  | { kind: "rejected"; statusCode: number; error: string };

/**
 * Delivers the outbox to the worker: each entry is locked (`FOR UPDATE SKIP LOCKED`) for the
 * duration of its HTTP call, so several gateway replicas never send the same entry at once,
 * and sent under the correlation ID of the request that wrote it, with the Idempotency-Key
 * `<task_id>:<event>` that lets the worker drop repeats. Up to `concurrency` entries are in
 * flight at once, each in its own transaction. A failure is retried with capped exponential
 * backoff; a 4xx other than 408 or 429 is final (`outbox_delivery_rejected`).
 *
 * @example
 * const relay = createOutboxRelay({ sql, worker, workerToken: settings.WORKER_TOKEN, logger }).start();
 * lifecycle.onDrain("outbox_relay", () => relay.stop());
 */
export function createOutboxRelay(options: OutboxRelayOptions): OutboxRelay {
  const { sql, worker, logger } = options;
  const pollIntervalMs = options.pollIntervalMs ?? 1_000;
  const retryBaseMs = options.retryBaseMs ?? 1_000;
  const retryMaxMs = options.retryMaxMs ?? 30_000;
  const concurrency = options.concurrency ?? 4;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new Error(`The outbox relay's concurrency must be a whole number above 0, not ${concurrency}`);
  }
  const authorization = `Bearer ${options.workerToken}`;

  let running: Promise<void> | undefined;
  let stopping = false;
  let kicked = false;
  let wake: (() => void) | undefined;
  let failing = false;

  /** One entry: claim, send, record, all in one transaction. False when none is due. */
  function deliverNext(): Promise<boolean> {
    return sql.begin(async (tx) => {
      const entry = await claimDueEntry(tx);
      if (!entry) return false;
      const task_id = entry.payload.task.id;
      await withCorrelation(
        entry.correlation_id,
        async () => {
          const attempt = entry.attempts + 1;
          const outcome = await send(entry);
          if (outcome.kind === "delivered") {
            await markDelivered(tx, entry.id);
            logger.info(
              { attempt, status_code: outcome.statusCode, notification_id: outcome.notificationId },
              "outbox_delivered",
            );
          } else if (outcome.kind === "retry") {
            const delayMs = backoff(attempt);
            await scheduleRetry(tx, entry.id, { error: outcome.error, delayMs });
            logger.warn(
              { err: outcome.err, attempt, status_code: outcome.statusCode, retry_in_ms: delayMs },
              "outbox_delivery_failed",
            );
          } else {
            await markRejected(tx, entry.id, { error: outcome.error });
            logger.error(
              { attempt, status_code: outcome.statusCode, last_error: outcome.error },
              "outbox_delivery_rejected",
            );
            reportError(
              new Error(`The worker rejected notification ${entry.idempotency_key}: ${outcome.error}`),
            );
          }
        },
        { task_id, outbox_id: entry.id, notification_event: entry.event },
      );
      return true;
    });
  }

  async function send(entry: OutboxEntry): Promise<Outcome> {
    try {
      const { statusCode, body } = await worker.request({
        method: "POST",
        path: "/v1/notifications",
        headers: {
          authorization,
          "content-type": "application/json",
          "idempotency-key": entry.idempotency_key,
        },
        body: JSON.stringify(entry.payload),
      });
      const text = await body.text();
      if (statusCode >= 200 && statusCode < 300) {
        return { kind: "delivered", statusCode, notificationId: notificationIdOf(text) };
      }
      const error = `HTTP ${statusCode}${errorCodeOf(text)}`;
      if (statusCode >= 500 || statusCode === 408 || statusCode === 429) {
        return { kind: "retry", statusCode, error, err: new Error(`The worker answered ${error}`) };
      }
      return { kind: "rejected", statusCode, error };
    } catch (caught) {
      const err = caught instanceof Error ? caught : new Error(String(caught));
      return { kind: "retry", error: `${err.name}: ${err.message}`.slice(0, 500), err };
    }
  }

  function backoff(attempt: number): number {
    const exponential = Math.min(retryMaxMs, retryBaseMs * 2 ** Math.min(attempt - 1, 30));
    // ±20 %, so replicas that failed together do not all retry in the same instant.
    return Math.round(Math.min(retryMaxMs, exponential * (0.8 + Math.random() * 0.4)));
  }

  /**
   * `concurrency` lanes, each taking the next due entry until none is left; SKIP LOCKED keeps
   * them (and other replicas) on different entries.
   */
  async function deliverDue(): Promise<number> {
    let attempted = 0;
    async function lane(): Promise<void> {
      while (!stopping && (await deliverNext())) attempted++;
    }
    // allSettled, not all: when one lane fails (PostgreSQL away), wait for the others still in
    // flight, so neither stop() nor the next pass starts while a delivery is unrecorded.
    const lanes = await Promise.allSettled(Array.from({ length: concurrency }, lane));
    const failed = lanes.find((result) => result.status === "rejected");
    if (failed) throw failed.reason;
    return attempted;
  }

  async function loop(): Promise<void> {
    while (!stopping) {
      kicked = false;
      try {
        await deliverDue();
        if (failing) logger.info("outbox_relay_recovered");
        failing = false;
      } catch (err) {
        // Once per outage (PostgreSQL away, say), not on every poll.
        if (!failing) logger.error({ err }, "outbox_relay_failed");
        failing = true;
      }
      if (!stopping && !kicked) await pause();
    }
  }

  /** Waits out the poll interval, or less when kicked or stopped. */
  function pause(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, pollIntervalMs);
      function done() {
        clearTimeout(timer);
        wake = undefined;
        resolve();
      }
      wake = done;
    });
  }

  return {
    start() {
      if (!running && !stopping) {
        // The loop runs in the context of whoever starts it, never of the request that kicks it.
        running = loop();
        logger.info({ poll_interval_ms: pollIntervalMs }, "outbox_relay_started");
      }
      return this;
    },
    kick() {
      kicked = true;
      wake?.();
    },
    deliverDue,
    async stop() {
      stopping = true;
      wake?.();
      await running;
      if (running) logger.info("outbox_relay_stopped");
    },
  };
}

/** The notification id from the worker's 202 `{ id, status }`, if it is there. */
function notificationIdOf(text: string): string | undefined {
  try {
    const id = (JSON.parse(text) as { id?: unknown }).id;
    return typeof id === "string" ? id : undefined;
  } catch {
    return undefined;
  }
}

/** " <code>" from an error body `{ error: "<code>" }`: short and safe to store and log. */
function errorCodeOf(text: string): string {
  try {
    const code = (JSON.parse(text) as { error?: unknown }).error;
    return typeof code === "string" && /^[a-z0-9_]{1,64}$/.test(code) ? ` ${code}` : "";
  } catch {
    return "";
  }
}
