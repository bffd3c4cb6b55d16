import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";

/** One call the receiver got. */
export interface ReceivedCall {
  headers: IncomingHttpHeaders;
  /** The raw body, as sent (what a signature covers). */
  body: string;
  json: { id: string; event: string; org_id: string; task: unknown; correlation_id: string };
}

export interface WebhookReceiver {
  url: string;
  calls: ReceivedCall[];
  /** Calls for one notification id. */
  callsFor(id: string): ReceivedCall[];
  close(): Promise<void>;
}

/**
 * A real HTTP server standing in for the customer's webhook endpoint. `answer` picks the status
 * (and optionally a delay) for each call (default 200 at once), given the call and how many calls
 * for the same notification came before it.
 */
export async function startWebhookReceiver(
  answer: (call: ReceivedCall, previousCalls: number) => number | { status: number; delayMs: number } = () =>
    200,
): Promise<WebhookReceiver> {
  const calls: ReceivedCall[] = [];
  const callsFor = (id: string) => calls.filter((call) => call.json.id === id);
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const call: ReceivedCall = {
        headers: req.headers,
        body,
        json: JSON.parse(body) as ReceivedCall["json"],
      };
      const previous = callsFor(call.json.id).length;
      calls.push(call);
      const answered = answer(call, previous);
      const { status, delayMs } = typeof answered === "number" ? { status: answered, delayMs: 0 } : answered;
      setTimeout(() => res.writeHead(status, { "content-type": "application/json" }).end("{}"), delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/ward`,
    calls,
    callsFor,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
