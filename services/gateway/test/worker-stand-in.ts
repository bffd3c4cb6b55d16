import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import { freePort } from "@ward/shared/testing";

/** One `POST /v1/notifications` the stand-in received. */
export interface ReceivedNotification {
  idempotencyKey: string | undefined;
  correlationId: string | undefined;
  authorization: string | undefined;
  body: unknown;
}

/** How the stand-in answers one request; the default is the worker's 202. */
export type Answer = { status: number; body?: unknown; delayMs?: number };

/**
 * A real HTTP server playing the worker's part of the contract: `POST /v1/notifications`
 * answers 202 `{ id, status: "queued" }`, the same id for the same Idempotency-Key. It records
 * every request, and how many were in flight at once (per key and overall). It can be stopped
 * and started again on the same port, like a worker that goes away and comes back.
 */
export class WorkerStandIn {
  readonly received: ReceivedNotification[] = [];
  /** The most requests with one Idempotency-Key that were ever in flight at the same time. */
  maxInFlightPerKey = 0;
  /** The most requests ever in flight at the same time. */
  maxInFlight = 0;
  /** Decides each answer; replace it to simulate failures or a slow worker. */
  answer: (request: ReceivedNotification) => Answer = () => ({ status: 202 });

  private server: Server | undefined;
  private readonly ids = new Map<string, string>();
  private readonly inFlight = new Map<string, number>();
  private inFlightTotal = 0;

  private constructor(readonly port: number) {}

  static async start(): Promise<WorkerStandIn> {
    const standIn = new WorkerStandIn(await freePort());
    await standIn.start();
    return standIn;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Requests with the given Idempotency-Key. */
  receivedFor(key: string): ReceivedNotification[] {
    return this.received.filter((request) => request.idempotencyKey === key);
  }

  /** Listens on its port; does nothing when it already does. */
  async start(): Promise<void> {
    if (this.server) return;
    const server = createServer((request, response) => {
      void this.handle(request).then(({ status, body }) => {
        response.writeHead(status, { "content-type": "application/json" });
        response.end(JSON.stringify(body));
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.port, "127.0.0.1", resolve);
    });
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }

  private async handle(request: IncomingMessage): Promise<{ status: number; body: unknown }> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const header = (name: string) => {
      const value = request.headers[name];
      return Array.isArray(value) ? value.join(", ") : value;
    };
    const received: ReceivedNotification = {
      idempotencyKey: header("idempotency-key"),
      correlationId: header("x-correlation-id"),
      authorization: header("authorization"),
      body: parseJson(Buffer.concat(chunks).toString("utf8")),
    };
    if (request.method !== "POST" || request.url !== "/v1/notifications") {
      return { status: 404, body: { error: "not_found" } };
    }
    const key = received.idempotencyKey ?? "";
    this.received.push(received);
    this.inFlight.set(key, (this.inFlight.get(key) ?? 0) + 1);
    this.inFlightTotal++;
    this.maxInFlightPerKey = Math.max(this.maxInFlightPerKey, this.inFlight.get(key) ?? 0);
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlightTotal);
    try {
      const answer = this.answer(received);
      if (answer.delayMs) await new Promise((resolve) => setTimeout(resolve, answer.delayMs));
      if (answer.status !== 202) return { status: answer.status, body: answer.body ?? {} };
      const id = this.ids.get(key) ?? randomUUID();
      this.ids.set(key, id);
      return { status: 202, body: answer.body ?? { id, status: "queued" } };
    } finally {
      this.inFlight.set(key, (this.inFlight.get(key) ?? 1) - 1);
      this.inFlightTotal--;
    }
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
