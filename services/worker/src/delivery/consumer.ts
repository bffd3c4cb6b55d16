import { hostname } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { withCorrelation } from "@ward/shared/correlation";
import { withErrorScope } from "@ward/shared/errors";
import { createFailureLog, type Logger } from "@ward/shared/logging";
import type { Redis } from "@ward/shared/redis";
import type { Job, NotificationQueue, StreamJob } from "../queue/notification-queue.js";

export interface ConsumerOptions {
  queue: NotificationQueue;
  /** A connection for the blocking reads alone (`connectRedis(url, { blocking: true })`); `stop()` closes it. */
  reader: Redis;
  /** Runs one job and stores its outcome; a rejection leaves the job pending, to run again. */
  deliver: (job: Job) => Promise<void>;
  logger: Logger;
  /** This consumer's name in the group, unique per process. Default `<hostname>-<pid>`. */
  name?: string;
  /** Longest wait for new jobs per read, in ms; `stop()` takes at most about this long. Default 2000. */
  blockMs?: number;
  /** Jobs read (and run concurrently) at a time. Default 4. */
  batchSize?: number;
  /** A job left unacknowledged this long belongs to a consumer that died; it is taken over. Default 30000. */
  claimIdleMs?: number;
  /** The loop counts as alive while it last went round within this many ms. Default 30000. */
  aliveWithinMs?: number;
}

export interface Consumer {
  /** Starts the loop (once). */
  start(): void;
  /** Takes no new jobs, finishes the ones in flight, closes the reader; resolves when done. */
  stop(): Promise<void>;
  /** Whether the loop is running and went round recently: the readiness check. */
  readonly isAlive: boolean;
  readonly name: string;
}

/**
 * The loop that runs notification jobs from the stream, as one consumer of the group: it reads
 * new jobs with a short blocking read, and every so often takes over jobs that a dead consumer
 * read but never acknowledged (`job_claimed`). Each job runs in its own correlation context,
 * restored from the job before anything is logged, and is acknowledged only once its outcome is
 * stored; a job that fails to run stays pending and is claimed again after `claimIdleMs`.
 *
 * @example
 * const consumer = createConsumer({ queue, reader: connectRedis(url, { logger, name: "worker-consumer", blocking: true }), deliver, logger });
 * consumer.start();
 * lifecycle.onDrain("consumer", () => consumer.stop());
 */
export function createConsumer(options: ConsumerOptions): Consumer {
  const { queue, reader, deliver, logger } = options;
  const name = options.name ?? `${hostname()}-${process.pid}`;
  const blockMs = options.blockMs ?? 2000;
  const batchSize = options.batchSize ?? 4;
  const claimIdleMs = options.claimIdleMs ?? 30_000;
  const aliveWithinMs = options.aliveWithinMs ?? 30_000;
  const claimEveryMs = Math.max(100, Math.min(claimIdleMs / 2, 10_000));

  let stopping = false;
  let loop: Promise<void> | undefined;
  let lastRound = 0;
  const rounds = createFailureLog(logger, {
    failed: "consumer_error",
    recovered: "consumer_recovered",
    fields: { consumer: name },
  });

  async function run(stream: StreamJob): Promise<void> {
    const { entryId, job } = stream;
    if (!job) {
      logger.warn({ entry_id: entryId }, "job_malformed");
      await queue.ack(entryId);
      return;
    }
    await withCorrelation(
      job.correlation_id,
      () =>
        withErrorScope(job.correlation_id, async () => {
          try {
            await deliver(job);
            await queue.ack(entryId);
          } catch (err) {
            logger.warn({ notification_id: job.notification_id, entry_id: entryId, err }, "job_interrupted");
          }
        }),
      { notification_id: job.notification_id },
    );
  }

  /** Runs up to a batch of abandoned jobs; true when there may be more. */
  async function claimAbandoned(): Promise<boolean> {
    const claimed = await queue.claimAbandoned(name, { minIdleMs: claimIdleMs, count: batchSize });
    await Promise.all(
      claimed.map((stream) => {
        if (stream.job) {
          const { correlation_id, notification_id } = stream.job;
          withCorrelation(correlation_id, () =>
            logger.info({ notification_id, entry_id: stream.entryId, idle_ms: claimIdleMs }, "job_claimed"),
          );
        }
        return run(stream);
      }),
    );
    return claimed.length === batchSize;
  }

  async function loopUntilStopped(): Promise<void> {
    let nextClaimAt = 0;
    let groupReady = false;
    logger.info({ consumer: name, stream: queue.stream, group: queue.group }, "consumer_started");
    while (!stopping) {
      lastRound = Date.now();
      try {
        if (!groupReady) {
          await queue.ensureGroup();
          groupReady = true;
        }
        if (Date.now() >= nextClaimAt) {
          // A backlog (say, of jobs that failed while PostgreSQL was away) drains batch by batch.
          const more = await claimAbandoned();
          nextClaimAt = more ? 0 : Date.now() + claimEveryMs;
        }
        if (stopping) break;
        const jobs = await queue.read(reader, name, { count: batchSize, blockMs });
        await Promise.all(jobs.map(run));
        rounds.succeeded();
      } catch (err) {
        if (stopping) break;
        // A Redis that restarted empty lost the group: create it again (the sweep re-enqueues its jobs).
        if (String(err).includes("NOGROUP")) groupReady = false;
        rounds.failed(err);
        await sleep(Math.min(1000, blockMs));
      }
    }
    logger.info({ consumer: name }, "consumer_stopped");
  }

  return {
    name,
    start() {
      loop ??= loopUntilStopped();
    },
    async stop() {
      stopping = true;
      if (loop) {
        // A read blocks at most blockMs while Redis answers; one waiting for Redis to come back
        // would not return: cut the reader then. A job in flight is always waited for.
        const finished = await Promise.race([loop.then(() => true), sleep(blockMs + 1000, false)]);
        if (!finished) reader.disconnect();
        await loop;
      }
      reader.disconnect();
    },
    get isAlive() {
      return loop !== undefined && !stopping && Date.now() - lastRound < aliveWithinMs;
    },
  };
}
