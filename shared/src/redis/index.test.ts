import { afterAll, describe, expect, it } from "vitest";
import { createLogger } from "../logging/index.js";
import { LogCapture, waitFor } from "../testing/index.js";
import { privateRedis } from "../testing/redis-server.js";
import { checkRedis, closeRedis, connectRedis } from "./index.js";

describe("connectRedis", () => {
  const capture = new LogCapture();
  const logger = createLogger({ service: "test", version: "0", environment: "test", destination: capture });
  const cleanups: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it("reconnects by itself after Redis restarts, logging each change of state once", async () => {
    const server = await privateRedis();
    cleanups.push(() => server.stop());
    await server.start();
    const redis = connectRedis(server.url, { logger, name: "cache", keyPrefix: "t:" });
    cleanups.push(() => redis.quit().catch(() => {}));
    await redis.set("k", "v");

    await server.stop();
    await expect(redis.get("k")).rejects.toThrow();
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await server.start();
    await waitFor(async () => (await redis.set("k", "again")) === "OK", { what: "redis to answer again" });

    const states = capture.lines.filter((line) => line.redis === "cache").map((line) => line.event);
    expect(states).toEqual(["redis_connected", "redis_unavailable", "redis_connected"]);
  });

  it("is unready at once while Redis is away and closes without waiting for it", async () => {
    const server = await privateRedis();
    cleanups.push(() => server.stop());
    await server.start();
    const redis = connectRedis(server.url, { logger, name: "ready", keyPrefix: "t:" });
    await waitFor(() => redis.status === "ready", { what: "redis to connect" });
    await checkRedis(redis);

    await server.stop();
    await waitFor(() => redis.status !== "ready", { what: "the client to notice" });
    await expect(checkRedis(redis)).rejects.toThrow(/^redis is /);
    await closeRedis(redis); // QUIT would wait in the offline queue for a Redis that is not coming
  });
});
