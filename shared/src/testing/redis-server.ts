import { spawn } from "node:child_process";
import { waitFor } from "./index.js";
import { freePort } from "./ports.js";
import { Redis } from "ioredis";

export interface PrivateRedis {
  /** `redis://[:<password>@]127.0.0.1:<port>`. */
  url: string;
  port: number;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface PrivateRedisOptions {
  /** Require this password (`--requirepass`): clients must AUTH, as with a managed Redis. */
  password?: string;
}

/**
 * A private `redis-server` on a spare port, for tests that break and restore Redis without
 * touching the machine's shared one, optionally behind a password.
 *
 * @example
 * const redis = await privateRedis(); await redis.start(); ... await redis.stop();
 * const locked = await privateRedis({ password: randomSecret("redis") }); // locked.url carries it
 */
export async function privateRedis({ password }: PrivateRedisOptions = {}): Promise<PrivateRedis> {
  const port = await freePort();
  let child: ReturnType<typeof spawn> | undefined;
  const auth = password === undefined ? "" : `:${encodeURIComponent(password)}@`;
  return {
    port,
    url: `redis://${auth}127.0.0.1:${port}`,
    async start() {
      const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"];
      child = spawn("redis-server", password === undefined ? args : [...args, "--requirepass", password], {
        stdio: "ignore",
      });
      await waitFor(
        async () => {
          const probe = new Redis(port, "127.0.0.1", {
            password,
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
      if (!running || running.exitCode !== null || running.signalCode !== null) return;
      await new Promise((resolve) => {
        running.once("exit", resolve);
        running.kill("SIGKILL");
      });
    },
  };
}
