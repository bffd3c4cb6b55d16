import { serve, type ServerType } from "@hono/node-server";
import type { Hono } from "hono";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createLogger, type Logger } from "../../logging/index.js";

/** A logger whose lines land, parsed, in `lines` (and raw in `text()`). */
export function capturedLogger(options: { secrets?: string[]; level?: "debug" | "info" } = {}): {
  logger: Logger;
  lines: Record<string, unknown>[];
  text: () => string;
} {
  const raw: string[] = [];
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({
    service: "test",
    version: "0.0.0",
    environment: "test",
    level: options.level ?? "debug",
    secrets: options.secrets,
    destination: {
      write(line: string) {
        raw.push(line);
        lines.push(JSON.parse(line) as Record<string, unknown>);
      },
    },
  });
  return { logger, lines, text: () => raw.join("") };
}

/** Serves `app` on a free loopback port; `close` stops it. */
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
