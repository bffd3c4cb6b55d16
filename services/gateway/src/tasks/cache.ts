import type { Logger } from "@ward/shared/logging";
import type { Redis } from "@ward/shared/redis";
import type { Task } from "./schemas.js";

export interface TaskCacheOptions {
  redis: Redis;
  logger: Logger;
  /** How long a cached task lives. Default 60 s: a missed invalidation heals itself soon. */
  ttlSeconds?: number;
  /** Longest wait for Redis before reading PostgreSQL instead. Default 250 ms. */
  timeoutMs?: number;
}

export interface TaskCache {
  /** The cached task, else `load()`'s (then cached); PostgreSQL alone when Redis is away. */
  read(orgId: string, id: string, load: () => Promise<Task | undefined>): Promise<Task | undefined>;
  /** Drops a task from the cache after it changed. */
  forget(orgId: string, id: string): Promise<void>;
}

class RedisUnavailable extends Error {
  override name = "RedisUnavailable";
}

/**
 * A read-through Redis cache of single tasks, keyed by organisation and id. Redis is a
 * convenience here, never a dependency of a read: when it is down or slow, reads go to
 * PostgreSQL and log `cache_unavailable` (warn). Hits and misses log `cache_hit` / `cache_miss` (debug).
 *
 * @example
 * const cache = createTaskCache({ redis, logger });
 * const task = await cache.read(orgId, id, () => findTask(sql, orgId, id));
 */
export function createTaskCache({
  redis,
  logger,
  ttlSeconds = 60,
  timeoutMs = 250,
}: TaskCacheOptions): TaskCache {
  const keyOf = (orgId: string, id: string) => `task:${encodeURIComponent(orgId)}:${id}`;

  /** A Redis command, failing fast when Redis is not connected and failing after `timeoutMs`. */
  async function command<T>(run: () => Promise<T>): Promise<T> {
    if (redis.status !== "ready") throw new RedisUnavailable(`Redis is ${redis.status}`);
    const pending = run();
    pending.catch(() => {}); // may still reject after the timeout below answered
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new RedisUnavailable(`Redis took longer than ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([pending, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  function unavailable(operation: string, task_id: string, err: unknown): void {
    logger.warn({ operation, task_id, err }, "cache_unavailable");
  }

  return {
    async read(orgId, id, load) {
      const key = keyOf(orgId, id);
      let cached: string | null = null;
      let redisUp = true;
      try {
        cached = await command(() => redis.get(key));
      } catch (err) {
        redisUp = false;
        unavailable("get", id, err);
      }
      if (cached !== null) {
        logger.debug({ task_id: id }, "cache_hit");
        return JSON.parse(cached) as Task;
      }
      if (redisUp) logger.debug({ task_id: id }, "cache_miss");
      const task = await load();
      if (task && redisUp) {
        await command(() => redis.set(key, JSON.stringify(task), "EX", ttlSeconds)).catch((err: unknown) =>
          unavailable("set", id, err),
        );
      }
      return task;
    },

    async forget(orgId, id) {
      await command(() => redis.del(keyOf(orgId, id))).catch((err: unknown) => unavailable("del", id, err));
    },
  };
}
