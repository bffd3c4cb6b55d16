import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { waitFor } from "./index.js";
import { Redis } from "ioredis";

/** A free TCP port on loopback. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface PrivateRedis {
  url: string;
  port: number;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A private `redis-server` on a spare port, for tests that break and restore Redis without
 * touching the machine's shared one.
 *
 * @example
 * const redis = await privateRedis(); await redis.start(); ... await redis.stop();
 */
export async function privateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  let child: ReturnType<typeof spawn> | undefined;
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    async start() {
      child = spawn(
        "redis-server",
        ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        {
          stdio: "ignore",
        },
      );
      await waitFor(
        async () => {
          const probe = new Redis(port, "127.0.0.1", {
            lazyConnect: true,
            maxRetriesPerRequest: 0,
            retryStrategy: () => null,
          });
          probe.on("error", () => {});
          try {
            await probe.connect();
            return (await probe.ping()) === "PONG";
          } finally {
            probe.disconnect();
          }
        },
        { what: `redis-server on port ${port}` },
      );
    },
    async stop() {
      const running = child;
      if (!running || running.exitCode !== null) return;
      await new Promise((resolve) => {
        running.once("exit", resolve);
        running.kill("SIGKILL");
      });
    },
  };
}
