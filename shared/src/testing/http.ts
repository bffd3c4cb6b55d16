import { serve, type ServerType } from "@hono/node-server";
import type { Hono } from "hono";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createLogger, type Logger, type LoggerOptions } from "../logging/index.js";

export interface CapturedLogger {
  logger: Logger;
  /** Every chunk the logger wrote, as written (one JSON line each, newline included). */
  chunks: string[];
  /** Each chunk, parsed, as it was written. */
  lines: Record<string, unknown>[];
  /** All the output, as one string. */
  text: () => string;
}

/**
 * A logger whose output is kept: every chunk written, and each parsed as one JSON line. Options
 * are `createLogger`'s; service, version and environment default to "gateway", "1.2.3", "test".
 *
 * @example
 * const { logger, lines } = capturedLogger({ level: "debug", secrets: [secret] });
 * logger.info("started"); // lines[0].event === "started"
 */
export function capturedLogger(options: Partial<LoggerOptions> = {}): CapturedLogger {
  const chunks: string[] = [];
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({
    service: "gateway",
    version: "1.2.3",
    environment: "test",
    destination: {
      write(chunk: string) {
        chunks.push(chunk);
        lines.push(JSON.parse(chunk) as Record<string, unknown>);
      },
    },
    ...options,
  });
  return { logger, chunks, lines, text: () => chunks.join("") };
}

/**
 * Serves `app` on a free loopback port; `close` stops it.
 *
 * @example
 * const served = await serveApp(app); await fetch(`${served.url}/healthz`); await served.close();
 */
export async function serveApp(
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- any Hono app
  app: Hono<any, any, any>,
): Promise<{ url: string; port: number; server: ServerType; close: () => Promise<void> }> {
  return new Promise((resolve) => {
    const server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, (info: AddressInfo) => {
      resolve({
        url: `http://127.0.0.1:${info.port}`,
        port: info.port,
        server,
        close: () =>
          new Promise((done) => {
            server.close(() => done());
            (server as Server).closeAllConnections();
          }),
      });
    });
  });
}
