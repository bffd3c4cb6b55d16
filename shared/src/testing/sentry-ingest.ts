import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { gunzipSync } from "node:zlib";

/** The fields of a Sentry event the tests read. */
export interface SentryEvent {
  event_id: string;
  message?: string;
  environment?: string;
  release?: string;
  tags?: Record<string, string>;
  request?: { url?: string; headers?: Record<string, string>; cookies?: unknown; query_string?: unknown };
  exception?: { values?: { type: string; value: string }[] };
}

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
  /** Every request, whole, so a test can search all of it: not just the events. */
  requests: IngestRequest[];
  /** The payloads of every `event` item received so far, in order. */
  events(): SentryEvent[];
  close(): Promise<void>;
}

/**
 * A fake Sentry ingest on a free loopback port: keeps every request the SDK sends (URL, headers,
 * gunzipped envelope) and reads the events out of the envelopes.
 *
 * @example
 * const ingest = await startSentryIngest(); // SENTRY_DSN = ingest.dsn
 * expect(ingest.events()[0]?.tags?.correlation_id).toBe("abc-123");
 */
export async function startSentryIngest(publicKey = "public"): Promise<SentryIngest> {
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
    events: () => requests.flatMap(({ body }) => eventsOf(body)),
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function eventsOf(envelope: string): SentryEvent[] {
  // A header line, then pairs of item-header and payload lines.
  const lines = envelope.split("\n");
  const events: SentryEvent[] = [];
  for (let i = 1; i + 1 < lines.length; i += 2) {
    if ((JSON.parse(lines[i]!) as { type: string }).type === "event") {
      events.push(JSON.parse(lines[i + 1]!) as SentryEvent);
    }
  }
  return events;
}
