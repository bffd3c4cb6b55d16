import { propagation, type TextMapPropagator } from "@opentelemetry/api";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { request, type Dispatcher } from "undici";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { bindContext, withCorrelation } from "../correlation/index.js";
import { createOutboundAgent, createServiceClient } from "./index.js";
import { capturedLogger } from "../testing/http.js";

const logs = capturedLogger({ level: "debug" });
const { logger } = logs;

/** A real server that records each request's headers and answers by path. */
const received: { path: string; headers: IncomingHttpHeaders }[] = [];
let flakyCalls = 0;
const server: Server = createServer((req, res) => {
  received.push({ path: req.url ?? "", headers: req.headers });
  if (req.url === "/flaky" && ++flakyCalls < 3) {
    res.writeHead(503).end();
    return;
  }
  res.writeHead(req.url === "/broken" ? 502 : 200, { "content-type": "application/json" });
  res.end(JSON.stringify({ ok: true }));
});
let origin: string;
let client: Dispatcher;

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  client = createServiceClient(origin, { logger, connections: 1 });
});
afterAll(async () => {
  await client.close();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

async function call(dispatcher: Dispatcher, path: string, headers: Record<string, string> = {}) {
  const res = await dispatcher.request({ method: "GET", path, headers });
  await res.body.dump();
  return received.at(-1)!;
}

function outboundLines(correlationId?: string) {
  return logs.lines.filter(
    (line) => String(line.event).startsWith("outbound_request") && line.correlation_id === correlationId,
  );
}

describe("createServiceClient", () => {
  it("sends the current correlation ID to the server", async () => {
    const seen = await withCorrelation("out-1", () => call(client, "/v1/notifications"));
    expect(seen.headers["x-correlation-id"]).toBe("out-1");
  });

  it("keeps a correlation ID the caller set explicitly", async () => {
    const seen = await withCorrelation("out-ctx", () =>
      call(client, "/v1/notifications", { "X-Correlation-ID": "explicit-1" }),
    );
    expect(seen.headers["x-correlation-id"]).toBe("explicit-1");
  });

  it("sends no correlation ID outside a context", async () => {
    const seen = await call(client, "/v1/notifications");
    expect(seen.headers).not.toHaveProperty("x-correlation-id");
  });

  it("logs outbound_request with the caller's correlation ID, target without query, status and duration", async () => {
    await withCorrelation("out-log", () => call(client, "/v1/notifications?token=abc123"));
    const [line] = outboundLines("out-log");
    expect(line).toMatchObject({
      level: "info",
      event: "outbound_request",
      target: `${origin}/v1/notifications`,
      method: "GET",
      status_code: 200,
    });
    expect(line?.duration_ms).toEqual(expect.any(Number));
    expect(JSON.stringify(line)).not.toContain("abc123");
  });

  it("logs a 5xx answer at warn level", async () => {
    await withCorrelation("out-502", () => call(client, "/broken"));
    expect(outboundLines("out-502")).toEqual([
      expect.objectContaining({ level: "warn", event: "outbound_request", status_code: 502 }),
    ]);
  });

  it("logs each call in its own caller's context even on a reused connection", async () => {
    // One connection: the second call reuses the socket the first one opened, in another context.
    await withCorrelation("out-first", async () => {
      bindContext({ user_id: "first-user" });
      await call(client, "/a");
    });
    await withCorrelation("out-second", () => call(client, "/b"));
    expect(outboundLines("out-first")).toEqual([expect.objectContaining({ user_id: "first-user" })]);
    const [second] = outboundLines("out-second");
    expect(second).toMatchObject({ target: `${origin}/b` });
    expect(second).not.toHaveProperty("user_id");
  });

  it("logs outbound_request_failed with the error when the server cannot be reached", async () => {
    const nowhere = createServiceClient("http://127.0.0.1:1", { logger });
    try {
      await expect(withCorrelation("out-fail", () => call(nowhere, "/v1/x"))).rejects.toThrow();
      expect(outboundLines("out-fail")).toEqual([
        expect.objectContaining({
          level: "warn",
          event: "outbound_request_failed",
          target: "http://127.0.0.1:1/v1/x",
          err: expect.objectContaining({ code: "ECONNREFUSED" }) as unknown,
        }),
      ]);
    } finally {
      await nowhere.close();
    }
  });

  it("refuses a base URL with a path, which a pool would silently drop", () => {
    expect(() => createServiceClient(`${origin}/v1`, { logger })).toThrow(/origin/);
  });

  it("retries an idempotent call when asked to, and logs the call once with its outcome", async () => {
    const retrying = createServiceClient(origin, { logger, retry: { minTimeout: 10, maxRetries: 3 } });
    try {
      flakyCalls = 0;
      const res = await withCorrelation("out-retry", () =>
        retrying.request({ method: "GET", path: "/flaky" }),
      );
      await res.body.dump();
      expect(res.statusCode).toBe(200);
      expect(received.filter((r) => r.headers["x-correlation-id"] === "out-retry")).toHaveLength(3);
      expect(outboundLines("out-retry")).toEqual([expect.objectContaining({ status_code: 200 })]);
    } finally {
      await retrying.close();
    }
  });
});

describe("createOutboundAgent", () => {
  it("sends the correlation ID to any URL and logs the call", async () => {
    const agent = createOutboundAgent({ logger });
    try {
      await withCorrelation("out-agent", async () => {
        const res = await request(`${origin}/hook?sig=s3`, { method: "POST", body: "{}", dispatcher: agent });
        await res.body.dump();
      });
      expect(received.at(-1)?.headers["x-correlation-id"]).toBe("out-agent");
      expect(outboundLines("out-agent")).toEqual([
        expect.objectContaining({ target: `${origin}/hook`, method: "POST", status_code: 200 }),
      ]);
    } finally {
      await agent.close();
    }
  });
});

describe("W3C trace context", () => {
  const traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  const fakeW3C: TextMapPropagator = {
    inject: (_context, carrier, setter) => {
      setter.set(carrier, "traceparent", traceparent);
      setter.set(carrier, "tracestate", "ward=1");
    },
    extract: (context) => context,
    fields: () => ["traceparent", "tracestate"],
  };
  afterEach(() => propagation.disable());

  it("is sent through OpenTelemetry's propagator when one is registered", async () => {
    propagation.setGlobalPropagator(fakeW3C);
    const seen = await withCorrelation("out-trace", () => call(client, "/traced"));
    expect(seen.headers).toMatchObject({
      traceparent,
      tracestate: "ward=1",
      "x-correlation-id": "out-trace",
    });
  });

  it("does not replace a traceparent the caller set", async () => {
    propagation.setGlobalPropagator(fakeW3C);
    const own = "00-11111111111111111111111111111111-2222222222222222-01";
    const seen = await call(client, "/traced", { traceparent: own });
    expect(seen.headers.traceparent).toBe(own);
  });

  it("is not sent without OpenTelemetry", async () => {
    const seen = await withCorrelation("out-no-trace", () => call(client, "/traced"));
    expect(seen.headers).not.toHaveProperty("traceparent");
  });
});
