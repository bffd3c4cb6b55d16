import { currentOrNewCorrelationId } from "@ward/shared/correlation";
import type { Redis } from "@ward/shared/redis";

/**
 * What a job says: deliver this notification, under this correlation ID. Everything else is
 * read from the notification's row, the source of truth.
 */
export interface Job {
  notification_id: string;
  correlation_id: string;
}

/** A job as read from the stream: `entryId` is what gets acknowledged. */
export interface StreamJob {
  entryId: string;
  /** undefined when the entry is not a well-formed job. */
  job: Job | undefined;
}

export interface QueueKeys {
  /** The stream of jobs ready to run. Default `notifications:jobs`. */
  stream?: string;
  /** The consumer group every worker pod joins. Default `notifiers`. */
  group?: string;
  /** The sorted set of retries waiting for their time (score = due time, ms). Default `notifications:retries`. */
  retries?: string;
}

type StreamEntry = [id: string, fields: string[] | null];

// Moves due retries into the stream and out of the set in one step, so two pods promoting at the
// same moment cannot both move (or both lose) a job.
const PROMOTE_DUE = `
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, member in ipairs(due) do
  local job = cjson.decode(member)
  redis.call('XADD', KEYS[2], '*', 'notification_id', job.notification_id, 'correlation_id', job.correlation_id)
  redis.call('ZREM', KEYS[1], member)
end
return due`;

export type NotificationQueue = ReturnType<typeof createNotificationQueue>;

/**
 * The notification jobs in Redis: a stream read by one consumer group (at-least-once, with
 * pending entries that survive a dead consumer), plus a sorted set holding retries until they
 * are due. `redis` runs the short commands; reads that block take a connection of their own.
 *
 * @example
 * const queue = createNotificationQueue(redis);
 * await withCorrelation("abc-123", () => queue.enqueue(notification.id)); // job carries abc-123
 */
export function createNotificationQueue(redis: Redis, keys: QueueKeys = {}) {
  const stream = keys.stream ?? "notifications:jobs";
  const group = keys.group ?? "notifiers";
  const retries = keys.retries ?? "notifications:retries";

  return {
    stream,
    group,

    /** Adds a job for the notification, carrying the correlation ID of the current context. */
    async enqueue(notificationId: string): Promise<string> {
      const correlationId = currentOrNewCorrelationId();
      const id = await redis.xadd(
        stream,
        "*",
        "notification_id",
        notificationId,
        "correlation_id",
        correlationId,
      );
      return id ?? "";
    },

    /** Holds `job` back until `dueAt` (ms since the epoch); one pending retry per notification. */
    async scheduleRetry(job: Job, dueAt: number): Promise<void> {
      const member = JSON.stringify({
        notification_id: job.notification_id,
        correlation_id: job.correlation_id,
      });
      // LT: of two schedules for one notification the earlier wins; an early job is simply deferred again.
      await redis.zadd(retries, "LT", Math.round(dueAt), member);
    },

    /** Moves retries due by `now` into the stream; returns the jobs moved. */
    async promoteDue(now: number, limit = 100): Promise<Job[]> {
      const moved = (await redis.eval(PROMOTE_DUE, 2, retries, stream, now, limit)) as string[];
      return moved.map((member) => JSON.parse(member) as Job);
    },

    /** Creates the stream and the group when missing (a fresh or restarted Redis). */
    async ensureGroup(): Promise<void> {
      try {
        // "0": a group created after jobs were added (Redis restored from a snapshot) still gets them.
        await redis.xgroup("CREATE", stream, group, "0", "MKSTREAM");
      } catch (error) {
        if (!String(error).includes("BUSYGROUP")) throw error;
      }
    },

    /** New jobs for `consumer`, waiting up to `blockMs` on the blocking connection `reader`. */
    async read(reader: Redis, consumer: string, { count, blockMs }: { count: number; blockMs: number }) {
      const reply = await reader.xreadgroup(
        "GROUP",
        group,
        consumer,
        "COUNT",
        count,
        "BLOCK",
        blockMs,
        "STREAMS",
        stream,
        ">",
      );
      return (reply?.[0]?.[1] ?? []).map(toStreamJob);
    },

    /** Takes over up to `count` jobs that another consumer read but left unacknowledged for `minIdleMs`. */
    async claimAbandoned(consumer: string, { minIdleMs, count }: { minIdleMs: number; count: number }) {
      const reply = (await redis.xautoclaim(stream, group, consumer, minIdleMs, "0-0", "COUNT", count)) as [
        string,
        StreamEntry[],
        string[]?,
      ];
      return reply[1].filter(([, fields]) => fields !== null).map(toStreamJob);
    },

    /** The job's outcome is stored: forget it (acknowledged and deleted, so the stream holds only live work). */
    async ack(entryId: string): Promise<void> {
      const results = await redis.multi().xack(stream, group, entryId).xdel(stream, entryId).exec();
      const failed = results?.find(([error]) => error)?.[0];
      if (!results || failed) throw failed ?? new Error("acknowledgement was discarded");
    },
  };
}

function toStreamJob([entryId, fields]: StreamEntry): StreamJob {
  const values = new Map<string, string>();
  for (let i = 0; fields && i + 1 < fields.length; i += 2) values.set(fields[i]!, fields[i + 1]!);
  const notification_id = values.get("notification_id");
  const correlation_id = values.get("correlation_id");
  const job = notification_id && correlation_id ? { notification_id, correlation_id } : undefined;
  return { entryId, job };
}
