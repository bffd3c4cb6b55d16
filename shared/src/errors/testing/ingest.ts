import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { gunzipSync } from "node:zlib";

export interface SentryEvent {
  event_id: string;
  message?: string;
  environment?: string;
  release?: string;
  tags?: Record<string, string>;
  request?: { url?: string; headers?: Record<string, string>; cookies?: unknown; query_string?: unknown };
  exception?: { values?: { type: string; value: string }[] };
}

/**
 * A fake Sentry ingest on a free loopback port: collects the events of every envelope posted to
 * `/api/1/envelope/` (gunzipping bodies the SDK compressed).
 */
export async function startFakeIngest(): Promise<{
  dsn: string;
  events: SentryEvent[];
  close: () => Promise<void>;
}> {
  const events: SentryEvent[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      let body = Buffer.concat(chunks);
      if (req.headers["content-encoding"] === "gzip") body = gunzipSync(body);
      if (req.url?.startsWith("/api/1/envelope/")) {
        // An envelope: a header line, then pairs of item-header and payload lines.
        const lines = body.toString("utf8").split("\n");
        for (let i = 1; i + 1 < lines.length; i += 2) {
          const item = JSON.parse(lines[i]!) as { type: string };
          if (item.type === "event") events.push(JSON.parse(lines[i + 1]!) as SentryEvent);
        }
      }
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    dsn: `http://public@127.0.0.1:${(server.address() as AddressInfo).port}/1`,
    events,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
