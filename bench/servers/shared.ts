/**
 * What every bench server has in common: a loopback listener that reports its port to the
 * bench over IPC, and the kind of secrets a real service scrubs from its logs.
 */
import { serve } from "@hono/node-server";
import type { Hono } from "hono";
import type { AddressInfo } from "node:net";
import { createLogger, type Logger } from "@ward/shared/logging";

/** Placeholder values shaped like a service's secret settings (URLs with passwords, tokens). */
const SECRETS = [
  "postgres://ward:change-me-bench-db-password@127.0.0.1:5432/ward",
  "redis://:change-me-bench-redis-password@127.0.0.1:6379",
  "change-me-bench-jwt-secret-0123456789abcdef",
  "change-me-bench-worker-token-0123456789abcdef",
];

/** A service's logger as `main` builds it: JSON lines on stdout, info level, secrets scrubbed. */
export function serviceLogger(service: string, level: "info" | "warn" = "info"): Logger {
  return createLogger({
    service,
    version: "0.0.0-bench",
    environment: "production",
    level,
    secrets: SECRETS,
  });
}

/** Tells the bench which port the server listens on. */
export function reportPort(port: number): void {
  process.send?.({ port });
}

/** Serves a Hono app on a free loopback port and reports it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any Hono app
export function serveHono(app: Hono<any, any, any>): void {
  serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, (info: AddressInfo) => reportPort(info.port));
}

// The bench stops its servers with SIGTERM; exiting normally lets loggers flush.
process.once("SIGTERM", () => process.exit(0));
