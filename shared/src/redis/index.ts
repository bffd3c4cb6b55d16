import { Redis } from "ioredis";
import { createFailureLog, type Logger } from "../logging/index.js";

export type { Redis } from "ioredis";

export interface RedisOptions {
  logger: Logger;
  /** Names the connection in logs and in `CLIENT LIST`, e.g. "gateway-cache". */
  name: string;
  /** Prefix of every key this client touches; tests give each run its own. Default none. */
  keyPrefix?: string;
  /**
   * For clients that block (XREADGROUP BLOCK): commands wait for a reconnect instead of
   * failing after a few retries. Default false: a command fails fast while Redis is away.
   */
  blocking?: boolean;
}

/**
 * An ioredis client that reconnects forever with capped backoff and logs each change of
 * connection state once (`redis_connected`, `redis_unavailable`) instead of every retry.
 *
 * @example
 * const redis = connectRedis(settings.REDIS_URL, { logger, name: "gateway-cache" });
 */
export function connectRedis(url: string, options: RedisOptions): Redis {
  const { logger, name } = options;
  const redis = new Redis(url, {
    connectionName: `ward-${name}`,
    keyPrefix: options.keyPrefix ?? "",
    lazyConnect: false,
    connectTimeout: 2_000,
    enableOfflineQueue: true,
    maxRetriesPerRequest: options.blocking ? null : 1,
    retryStrategy: (attempt) => Math.min(100 * 2 ** attempt, 2_000),
  });
  const connection = createFailureLog(logger, {
    failed: "redis_unavailable",
    recovered: "redis_connected",
    fields: { redis: name },
    announceFirst: true,
  });
  redis.on("ready", () => connection.succeeded());
  redis.on("error", (err: Error) => connection.failed(err));
  return redis;
}

class RedisUnavailable extends Error {
  override name = "RedisUnavailable";
}

/**
 * The readiness check of a client made by `connectRedis`: a PING while connected, and an
 * error at once while it reconnects, where a command would wait in the offline queue.
 *
 * @example
 * readiness.check("redis", () => checkRedis(redis));
 */
export async function checkRedis(redis: Redis): Promise<void> {
  if (redis.status !== "ready") throw new RedisUnavailable(`redis is ${redis.status}`);
  await redis.ping();
}

/**
 * Closes a client on shutdown: QUIT when Redis answers; when it is away, drops the
 * connection rather than wait for it to come back.
 *
 * @example
 * lifecycle.onShutdown("redis", () => closeRedis(redis));
 */
export async function closeRedis(redis: Redis): Promise<void> {
  if (redis.status === "ready") await redis.quit();
  else redis.disconnect();
}
