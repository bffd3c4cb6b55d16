import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { gunzipSync } from "node:zlib";

/** One request the SDK sent: where to, with which headers, and the envelope it carried. */
export interface IngestRequest {
  url: string;
  headers: IncomingHttpHeaders;
  /** The envelope, gunzipped: a header line, then item-header and payload lines. */
  body: string;
}

export interface SentryIngest {
  /** `http://<publicKey>@127.0.0.1:<port>/1`. */
  dsn: string;
  requests: IngestRequest[];
  /** The payloads of every `event` item received so far. */
  events(): { tags?: Record<string, string>; exception?: unknown }[];
  close(): Promise<void>;
}

/**
 * A fake Sentry ingest on a free loopback port that keeps every request whole (URL, headers,
 * gunzipped envelope), so a test can search all of it: not just the events.
 *
 * @example
 * const ingest = await startSentryIngest("publickey123"); // SENTRY_DSN = ingest.dsn
 */
export async function startSentryIngest(publicKey: string): Promise<SentryIngest> {
  const requests: IngestRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      let body = Buffer.concat(chunks);
      if (req.headers["content-encoding"] === "gzip") body = gunzipSync(body);
      requests.push({ url: req.url ?? "", headers: req.headers, body: body.toString("utf8") });
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    dsn: `http://${publicKey}@127.0.0.1:${port}/1`,
    requests,
    events: () =>
      requests.flatMap(({ body }) => {
        const lines = body.split("\n");
        const events = [];
        for (let i = 1; i + 1 < lines.length; i += 2) {
          if ((JSON.parse(lines[i]!) as { type: string }).type === "event")
            events.push(JSON.parse(lines[i + 1]!));
        }
        return events as ReturnType<SentryIngest["events"]>;
      }),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
