/**
 * A tiny service for the lifecycle tests, run as a real process:
 * `node --conditions=source --import tsx service.ts`. It serves the health routes and a slow route,
 * registers a drain and three resources, and logs what it does as JSON lines on stdout.
 *
 * Environment: SHUTDOWN_DELAY_MS, SHUTDOWN_TIMEOUT_MS, SLOW_MS (the slow route's duration),
 * HANG_DRAIN=1 (the drain never finishes), FAILING_RESOURCE=<name> (that resource fails to close).
 */
import type { Server } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { createReadiness, healthRoutes } from "../../health/index.js";
import { createLogger } from "../../logging/index.js";
import { createLifecycle } from "../index.js";

const env = process.env;
const logger = createLogger({
  service: "lifecycle-fixture",
  version: "0.0.0",
  environment: "test",
  level: "debug",
});
const readiness = createReadiness({ logger });
const lifecycle = createLifecycle({
  logger,
  readiness,
  shutdownDelayMs: Number(env.SHUTDOWN_DELAY_MS ?? 0),
  shutdownTimeoutMs: Number(env.SHUTDOWN_TIMEOUT_MS ?? 10_000),
  onFatal: (error) => logger.info({ error_name: (error as Error).name }, "fatal_reported"),
}).handleSignals();

for (const name of ["sentry", "postgres", "redis"]) {
  lifecycle.onShutdown(name, async () => {
    logger.info({ resource: name }, "resource_closing");
    await sleep(20);
    if (env.FAILING_RESOURCE === name) throw new Error(`${name} refused to close`);
    logger.info({ resource: name }, "resource_closed");
  });
}

lifecycle.onDrain("consumer", async () => {
  if (env.HANG_DRAIN === "1") return new Promise(() => {});
  await sleep(100);
  logger.info("consumer_stopped");
});

const app = new Hono()
  .route("/", healthRoutes(readiness))
  .get("/slow", async (c) => {
    logger.info("slow_request_started");
    await sleep(Number(env.SLOW_MS ?? 1000));
    return c.text("slow done");
  })
  .get("/crash", (c) => {
    setTimeout(() => {
      throw new TypeError("boom");
    });
    return c.text("crashing");
  })
  .get("/reject", (c) => {
    void Promise.reject(new RangeError("boom"));
    return c.text("rejecting");
  });

const server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, (info) =>
  logger.info({ port: info.port }, "server_listening"),
) as Server;
// Like a server behind a load balancer: keep-alive connections outlive the shutdown deadline.
server.keepAliveTimeout = 60_000;
lifecycle.trackServer(server);
