import { createServer, type IncomingHttpHeaders } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { freePort } from "./ports.js";

/** How the receiver answers one call: a status (after `delayMs`), or never ("hang"). */
export type Answer = number | { status: number; delayMs?: number } | "hang";

/** The body the worker sends (see the worker's webhook client). */
export interface WebhookPayload {
  /** The notification id, also sent as the Idempotency-Key header. */
  id: string;
  event: string;
  org_id: string;
  task: { id: string; title: string; [field: string]: unknown };
  correlation_id: string;
}

/** One call the receiver got, and how it answered. */
export interface ReceivedCall {
  headers: IncomingHttpHeaders;
  /** The Idempotency-Key header ("" when absent). */
  key: string;
  /** The raw body, exactly as sent: what the signature covers. */
  body: string;
  /** The parsed body; null when it was not JSON (answered 400). */
  json: WebhookPayload | null;
  /** When the call arrived (Date.now()). */
  at: number;
  /** The status the receiver answered with, or "hang" when it never answered. */
  status: number | "hang";
}

export interface WebhookReceiver {
  /** Where the worker should send notifications (its WEBHOOK_URL). */
  url: string;
  /** Every call, in arrival order. */
  calls: ReceivedCall[];
  /**
   * Decides each answer from here on, given the call and how many calls for the same
   * notification came before it. Default 200 at once.
   */
  answer: (call: ReceivedCall, previousCalls: number) => Answer;
  /** Answer the next `count` calls with `status` (default 503), whatever `answer` says. */
  failNext(count: number, status?: number): void;
  /** The calls about one notification, in arrival order. */
  callsFor(notificationId: string): ReceivedCall[];
  /** The calls about one task, in arrival order. */
  callsForTask(taskId: string): ReceivedCall[];
  /** How many calls carrying this Idempotency-Key the receiver accepted (answered 2xx). */
  acceptedWithKey(key: string): number;
  /** The calls answered 2xx, by Idempotency-Key: what a receiver that drops repeated keys handles once. */
  handled(): Map<string, ReceivedCall[]>;
  /** The distinct Idempotency-Keys answered 2xx for one task: one per event announced. */
  keysForTask(taskId: string): Set<string>;
  /** Stops listening and cuts every open connection: calls are refused until `start()`. */
  stop(): Promise<void>;
  /** Listens again, on the same port. */
  start(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A real HTTP server standing in for a customer's webhook endpoint, on a loopback port below the
 * ephemeral range so that it can be stopped (connection refused) and started again on it. It
 * records each call's headers and raw body and answers as `answer` decides (default 200).
 *
 * @example
 * const receiver = await startWebhookReceiver();
 * receiver.failNext(1);
 * receiver.answer = (call) => (call.json?.task.title === "poison" ? 500 : 200);
 * // ... WEBHOOK_URL=receiver.url ...
 * await receiver.close();
 */
export async function startWebhookReceiver(
  answer: WebhookReceiver["answer"] = () => 200,
): Promise<WebhookReceiver> {
  const calls: ReceivedCall[] = [];
  let failures = { left: 0, status: 503 };
  const accepted = (call: ReceivedCall) => typeof call.status === "number" && call.status < 300;

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const json = parsed(body);
      const call: ReceivedCall = {
        headers: req.headers,
        key: String(req.headers["idempotency-key"] ?? ""),
        body,
        json,
        at: Date.now(),
        status: 400,
      };
      let chosen: Answer = 400;
      if (json !== null && failures.left > 0) {
        failures.left -= 1;
        chosen = failures.status;
      } else if (json !== null) {
        chosen = receiver.answer(call, receiver.callsFor(json.id).length);
      }
      calls.push(call);
      if (chosen === "hang") {
        call.status = "hang"; // the worker's timeout ends it
        return;
      }
      const { status, delayMs = 0 } = typeof chosen === "number" ? { status: chosen } : chosen;
      call.status = status;
      void sleep(delayMs).then(() => res.writeHead(status, { "content-type": "application/json" }).end("{}"));
    });
  });
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => {
        server.off("error", reject);
        resolve();
      });
    });
  let port = await freePort();
  // Another test may bind the port picked between the pick and the listen: pick again.
  for (let attempt = 1; ; attempt++) {
    try {
      await listen(port);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EADDRINUSE" || attempt === 5) throw error;
      port = await freePort();
    }
  }

  const receiver: WebhookReceiver = {
    url: `http://127.0.0.1:${port}/hooks/ward`,
    calls,
    answer,
    failNext(count, status = 503) {
      failures = { left: count, status };
    },
    callsFor: (notificationId) => calls.filter((call) => call.json?.id === notificationId),
    callsForTask: (taskId) => calls.filter((call) => call.json?.task.id === taskId),
    acceptedWithKey: (key) => calls.filter((call) => call.key === key && accepted(call)).length,
    handled() {
      const byKey = new Map<string, ReceivedCall[]>();
      for (const call of calls.filter(accepted)) byKey.set(call.key, [...(byKey.get(call.key) ?? []), call]);
      return byKey;
    },
    keysForTask: (taskId) =>
      new Set(
        receiver
          .callsForTask(taskId)
          .filter(accepted)
          .map((call) => call.key),
      ),
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
    start: () => listen(port),
    close: () => receiver.stop(),
  };
  return receiver;
}

function parsed(body: string): WebhookPayload | null {
  try {
    return JSON.parse(body) as WebhookPayload;
  } catch {
    return null;
  }
}
