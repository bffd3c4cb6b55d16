import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";

/** One call the receiver got, and how it answered. */
export interface ReceivedCall {
  headers: IncomingHttpHeaders;
  /** The raw body, exactly as sent: what the signature covers. */
  body: string;
  /** The parsed body; null when it was not JSON (answered 400). */
  json: { id: string; event: string; org_id: string; task: { id: string }; correlation_id: string } | null;
  /** The status the receiver answered with. */
  status: number;
}

export interface WebhookReceiver {
  /** Where the worker should send notifications (its WEBHOOK_URL). */
  url: string;
  /** Every call, in arrival order. */
  calls: ReceivedCall[];
  /** The calls about one task, in arrival order. */
  callsForTask(taskId: string): ReceivedCall[];
  /** How many calls carrying this Idempotency-Key the receiver accepted (answered 2xx). */
  acceptedWithKey(key: string): number;
  /** Answer the next `count` calls with `status` (default 503) instead of 200. */
  failNext(count: number, status?: number): void;
  close(): Promise<void>;
}

/**
 * A real HTTP server standing in for a customer's webhook endpoint: it records each call's headers
 * and raw body, answers 200, and can be told to fail for a while.
 *
 * @example
 * const receiver = await startWebhookReceiver();
 * receiver.failNext(1);
 * // ... WEBHOOK_URL=receiver.url ...
 * await receiver.close();
 */
export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const calls: ReceivedCall[] = [];
  let failures: { left: number; status: number } = { left: 0, status: 503 };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const json = parsed(body);
      let status = json === null ? 400 : 200;
      if (status === 200 && failures.left > 0) {
        failures.left -= 1;
        status = failures.status;
      }
      calls.push({ headers: req.headers, body, json, status });
      res.writeHead(status, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/hooks/ward`,
    calls,
    callsForTask: (taskId) => calls.filter((call) => call.json?.task.id === taskId),
    acceptedWithKey: (key) =>
      calls.filter((call) => call.headers["idempotency-key"] === key && call.status < 300).length,
    failNext(count, status = 503) {
      failures = { left: count, status };
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function parsed(body: string): ReceivedCall["json"] {
  try {
    return JSON.parse(body) as ReceivedCall["json"];
  } catch {
    return null;
  }
}
