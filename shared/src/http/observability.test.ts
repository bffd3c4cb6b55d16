import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { connect } from "node:net";
import { Readable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { Pool, request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { bindContext, currentCorrelationId } from "../correlation/index.js";
import { ApiError } from "../errors/index.js";
import { connectPostgres } from "../postgres/index.js";
import { freePort } from "../testing/index.js";
import { handleClientErrors, useObservability } from "./index.js";
import { capturedLogger, serveApp } from "../testing/http.js";

const SECRET = "change-me-planted-secret-0123456789";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const logs = capturedLogger({ level: "debug", secrets: [SECRET] });
const { logger } = logs;

const app = useObservability(new Hono(), { logger, slowRequestMs: 50, maxBodyBytes: 1024 });
app.get("/json", (c) => c.json({ ok: true }));
app.get("/boom", () => {
  throw new Error("database exploded");
});
app.get("/raw", () => new Response("raw body"));
app.get("/own-header", () => new Response("mine", { headers: { "X-Correlation-ID": "set-by-the-route" } }));
// fetch() answers with immutable headers, as a route proxying another service would.
app.get("/proxied", () => fetch(`${base}/json`));
app.get("/forbidden", () => {
  throw new HTTPException(403, { message: "No entry" });
});
app.get("/challenge", () => {
  const res = new Response("nope", { status: 401, headers: { "WWW-Authenticate": 'Bearer realm="ward"' } });
  throw new HTTPException(401, { res });
});
app.get("/conflict", () => {
  throw new ApiError(409, "task_already_done", "The task is already done");
});
// A real client of a port nothing listens on: PostgreSQL is away.
const awayDatabase = connectPostgres(`postgres://postgres@127.0.0.1:${await freePort()}/ward`, {
  applicationName: "ward-test",
});
app.get("/database-away", async (c) => c.json(await awayDatabase`select 1`));
app.get("/unavailable", () => {
  throw new ApiError(503, "worker_unavailable", "The worker is not answering");
});
app.post("/tasks", async (c) => {
  const task = z.object({ title: z.string().min(1), due: z.iso.datetime() }).parse(await c.req.json());
  return c.json(task, 201);
});
app.post("/upload", async (c) => c.json({ size: (await c.req.arrayBuffer()).byteLength }));
app.get("/slow", async (c) => {
  await sleep(80);
  return c.json({ ok: true });
});
app.get("/healthz", (c) => c.json({ status: "ok" }));
app.get("/readyz", (c) => c.json({ status: "not_ready" }, 503));
app.get("/throws-string", () => {
  // eslint-disable-next-line @typescript-eslint/only-throw-error -- what careless code does
  throw "not an Error";
});
app.get("/echo/:id", async (c) => {
  const id = c.req.param("id");
  bindContext({ user_id: `user-${id}` });
  for (let step = 0; step < 3; step++) {
    await sleep(Math.random() * 5);
    logger.info({ expected: id }, "work_step");
  }
  return c.json({ seen: currentCorrelationId() });
});
app.get("/leaky", (c) => {
  logger.info({ request: { headers: { authorization: c.req.header("authorization") } } }, "leaky_log");
  const error = new Error(`cannot connect to postgres://app:${SECRET}@db/ward`);
  Object.assign(error, { context: { attempt: { settings: { jwt: SECRET, nested: { value: SECRET } } } } });
  throw error;
});

let base: string;
let server: Awaited<ReturnType<typeof serveApp>>;

beforeAll(async () => {
  server = await serveApp(app);
  handleClientErrors(server.server, { logger });
  base = server.url;
});
afterAll(() => server.close());

async function get(path: string, headers: Record<string, string> = {}) {
  const res = await request(`${base}${path}`, { headers });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, text, json: () => JSON.parse(text) as unknown };
}

function linesOf(correlationId: string) {
  return logs.lines.filter((line) => line.correlation_id === correlationId);
}

/** Sends bytes as they are (undici refuses CR/LF in headers) and returns the raw response. */
function rawRequest(head: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(server.port, "127.0.0.1", () => socket.end(head, "latin1"));
    let data = "";
    socket.on("data", (chunk: Buffer) => (data += chunk.toString("latin1")));
    socket.on("end", () => resolve(data));
    socket.on("error", reject);
  });
}

describe("the X-Correlation-ID response header", () => {
  it.each([
    ["a JSON route", "/json", 200],
    ["a route that throws", "/boom", 500],
    ["an unknown route", "/nowhere", 404],
    ["a route returning a raw Response", "/raw", 200],
    ["a route returning a fetched Response, whose headers are immutable", "/proxied", 200],
    ["an HTTPException", "/forbidden", 403],
    ["an ApiError", "/conflict", 409],
  ])("is on %s", async (_kind, path, status) => {
    const res = await get(path, { "x-correlation-id": `echo-${path.slice(1)}` });
    expect(res.status).toBe(status);
    expect(res.headers["x-correlation-id"]).toBe(`echo-${path.slice(1)}`);
  });

  it("replaces one the route's response brings, and is sent once", async () => {
    const res = await get("/own-header", { "x-correlation-id": "echo-own" });
    expect(res.headers["x-correlation-id"]).toBe("echo-own");
  });

  it("is on a 413 for a body over the limit", async () => {
    const res = await request(`${base}/upload`, {
      method: "POST",
      body: "x".repeat(2048),
      headers: { "x-correlation-id": "echo-413" },
    });
    expect(res.statusCode).toBe(413);
    expect(res.headers["x-correlation-id"]).toBe("echo-413");
    expect(await res.body.json()).toEqual({
      error: "payload_too_large",
      message: "The request body is larger than 1024 bytes",
      correlation_id: "echo-413",
    });
  });

  it("is a fresh UUID when the request has none", async () => {
    const res = await get("/json");
    expect(res.headers["x-correlation-id"]).toMatch(UUID);
  });

  it("is on the JSON 400 Node answers for a request it cannot parse", async () => {
    const response = await rawRequest("GET /json HTTP/1.1\r\nHost: x\r\nX-Correlation-ID: a\rb\r\n\r\n");
    const [head = "", body = ""] = response.split("\r\n\r\n");
    expect(head).toMatch(/^HTTP\/1\.1 400 /);
    const id = /x-correlation-id: (\S+)/i.exec(head)?.[1];
    expect(id).toMatch(UUID);
    expect(JSON.parse(body)).toEqual({
      error: "bad_request",
      message: "Malformed HTTP request",
      correlation_id: id,
    });
  });
});

describe("error responses", () => {
  it("hide an unexpected error behind 500 internal_error", async () => {
    const res = await get("/boom", { "x-correlation-id": "err-500" });
    expect(res.json()).toEqual({
      error: "internal_error",
      message: "Internal server error",
      correlation_id: "err-500",
    });
    expect(res.text).not.toContain("exploded");
  });

  it("answer an unknown route with 404 not_found", async () => {
    const res = await get("/nowhere", { "x-correlation-id": "err-404" });
    expect(res.json()).toEqual({ error: "not_found", message: "No such route", correlation_id: "err-404" });
  });

  it("keep an HTTPException's status and message", async () => {
    const res = await get("/forbidden", { "x-correlation-id": "err-403" });
    expect(res.json()).toEqual({ error: "forbidden", message: "No entry", correlation_id: "err-403" });
  });

  it("keep the headers of an HTTPException's own response, in JSON", async () => {
    const res = await get("/challenge", { "x-correlation-id": "err-401" });
    expect(res.status).toBe(401);
    expect(res.headers["www-authenticate"]).toBe('Bearer realm="ward"');
    expect(res.headers["content-type"]).toMatch(/^application\/json/);
    expect(res.json()).toEqual({
      error: "unauthorized",
      message: "Authentication is required",
      correlation_id: "err-401",
    });
  });

  it("answer PostgreSQL out of reach with 503 service_unavailable", async () => {
    const res = await get("/database-away", { "x-correlation-id": "err-db-away" });
    expect(res.status).toBe(503);
    expect(res.json()).toEqual({
      error: "service_unavailable",
      message: "A service this request needs is unavailable; try again shortly",
      correlation_id: "err-db-away",
    });
  });

  it("carry an ApiError's status, code and message", async () => {
    const res = await get("/conflict", { "x-correlation-id": "err-409" });
    expect(res.json()).toEqual({
      error: "task_already_done",
      message: "The task is already done",
      correlation_id: "err-409",
    });
  });

  it("turn a zod error into 400 validation_failed with field details", async () => {
    const res = await request(`${base}/tasks`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-correlation-id": "err-zod" },
      body: JSON.stringify({ title: "", due: "tomorrow" }),
    });
    expect(res.statusCode).toBe(400);
    const body = (await res.body.json()) as { error: string; details: { path: string }[] };
    expect(body).toMatchObject({ error: "validation_failed", correlation_id: "err-zod" });
    expect(body.details.map((detail) => detail.path)).toEqual(["title", "due"]);
  });

  it("answer a body that is not JSON with 400 invalid_json", async () => {
    const res = await request(`${base}/tasks`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-correlation-id": "err-json" },
      body: '{"title": "half',
    });
    expect(res.statusCode).toBe(400);
    expect(await res.body.json()).toEqual({
      error: "invalid_json",
      message: "The request body is not valid JSON",
      correlation_id: "err-json",
    });
  });

  it("accept a body within the limit", async () => {
    const res = await request(`${base}/upload`, { method: "POST", body: "x".repeat(1024) });
    expect(res.statusCode).toBe(200);
    expect(await res.body.json()).toEqual({ size: 1024 });
  });

  it("count a chunked body against the limit as it streams", async () => {
    const chunks = Readable.from([0, 1, 2, 3].map(() => Buffer.alloc(512, "x")));
    const res = await request(`${base}/upload`, { method: "POST", body: chunks });
    expect(res.statusCode).toBe(413);
    expect(await res.body.json()).toMatchObject({ error: "payload_too_large" });
  });

  it("turn a thrown non-Error into 500 JSON with the header", async () => {
    const res = await get("/throws-string", { "x-correlation-id": "err-string" });
    expect(res.status).toBe(500);
    expect(res.headers["x-correlation-id"]).toBe("err-string");
    expect(res.json()).toMatchObject({ error: "internal_error", correlation_id: "err-string" });
  });
});

describe("an incoming correlation ID", () => {
  it("is kept when well-formed", async () => {
    const res = await get("/json", { "x-correlation-id": "gw-1:abc.DEF_9/x+y=@z" });
    expect(res.headers["x-correlation-id"]).toBe("gw-1:abc.DEF_9/x+y=@z");
    expect(linesOf("gw-1:abc.DEF_9/x+y=@z").map((line) => line.event)).toEqual([
      "request_started",
      "request_completed",
    ]);
  });

  it.each([
    ["quotes", 'abc"def', "malformed"],
    ["a JSON fragment", '","level":"fatal', "malformed"],
    ["spaces", "abc def", "malformed"],
    ["10 KB", "a".repeat(10 * 1024), "too_long"],
    ["129 characters", "a".repeat(129), "too_long"],
  ])("with %s is replaced, logged once by length, never echoed", async (_kind, bad, reason) => {
    const before = logs.lines.length;
    const res = await get("/json", { "x-correlation-id": bad });
    const id = res.headers["x-correlation-id"] as string;
    expect(id).toMatch(UUID);
    const replaced = logs.lines.slice(before).filter((line) => line.event === "correlation_id_replaced");
    expect(replaced).toEqual([expect.objectContaining({ correlation_id: id, reason, length: bad.length })]);
    expect(logs.text()).not.toContain(bad);
  });

  it("with non-ASCII characters is replaced and never echoed", async () => {
    const response = await rawRequest(
      "GET /json HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Correlation-ID: caf\u00e9-\u00ff\r\n\r\n",
    );
    const id = /x-correlation-id: (\S+)/i.exec(response)?.[1];
    expect(id).toMatch(UUID);
    expect(response).not.toContain("caf\u00e9");
    expect(logs.text()).not.toContain("caf\u00e9");
  });

  it.each([
    ["a bare CR", "crlfhead\rcrlftail"],
    ["a bare LF", "crlfhead\ncrlftail"],
  ])("with %s gets 400 and a fresh UUID, and is never echoed", async (_kind, bad) => {
    const response = await rawRequest(`GET /json HTTP/1.1\r\nHost: x\r\nX-Correlation-ID: ${bad}\r\n\r\n`);
    expect(response).toMatch(/^HTTP\/1\.1 400 /);
    expect(/x-correlation-id: (\S+)/i.exec(response)?.[1]).toMatch(UUID);
    expect(response).not.toContain("crlf");
    expect(logs.text()).not.toContain("crlf");
  });

  it("cannot inject a response header through CR LF", async () => {
    const response = await rawRequest(
      "GET /json HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Correlation-ID: inj-1\r\nSet-Cookie: stolen=1\r\n\r\n",
    );
    expect(response).toMatch(/^HTTP\/1\.1 200 /);
    expect(response.toLowerCase()).not.toContain("set-cookie");
  });

  it("is not logged as replaced when it is missing", async () => {
    const before = logs.lines.length;
    await get("/json");
    expect(logs.lines.slice(before).map((line) => line.event)).toEqual([
      "request_started",
      "request_completed",
    ]);
  });
});

describe("concurrent requests", () => {
  it("each see and log only their own correlation ID", async () => {
    const pool = new Pool(base, { connections: 64 });
    try {
      const ids = Array.from({ length: 500 }, (_, i) => `concurrent-${i}`);
      const results = await Promise.all(
        ids.map(async (id) => {
          const res = await pool.request({
            path: `/echo/${id}`,
            method: "GET",
            headers: { "x-correlation-id": id },
          });
          return {
            id,
            header: res.headers["x-correlation-id"],
            body: (await res.body.json()) as { seen: string },
          };
        }),
      );
      for (const { id, header, body } of results) {
        expect(header).toBe(id);
        expect(body.seen).toBe(id);
      }
      const steps = logs.lines.filter((line) => line.event === "work_step");
      expect(steps.filter((line) => ids.includes(line.expected as string))).toHaveLength(1500);
      for (const line of steps) {
        expect(line.correlation_id).toBe(line.expected);
        expect(line.user_id).toBe(`user-${line.expected as string}`);
      }
      for (const id of ids) {
        const completed = linesOf(id).filter((line) => line.event === "request_completed");
        expect(completed).toEqual([expect.objectContaining({ path: `/echo/${id}`, user_id: `user-${id}` })]);
      }
    } finally {
      await pool.close();
    }
  });
});

describe("request logging", () => {
  it("logs request_started with method and path, never the query string", async () => {
    await get("/json?token=abc123&page=2", { "x-correlation-id": "log-started" });
    const [started] = linesOf("log-started");
    expect(started).toMatchObject({ level: "info", event: "request_started", method: "GET", path: "/json" });
    expect(JSON.stringify(linesOf("log-started"))).not.toContain("abc123");
  });

  it("logs request_completed with status_code and duration_ms", async () => {
    await get("/conflict", { "x-correlation-id": "log-completed" });
    const completed = linesOf("log-completed").find((line) => line.event === "request_completed");
    expect(completed).toMatchObject({ level: "info", method: "GET", path: "/conflict", status_code: 409 });
    expect(completed?.duration_ms).toEqual(expect.any(Number));
  });

  it("logs request_failed at error level with the error for a 5xx", async () => {
    await get("/boom", { "x-correlation-id": "log-failed" });
    const failed = linesOf("log-failed").find((line) => line.event === "request_failed");
    expect(failed).toMatchObject({ level: "error", status_code: 500, err: { message: "database exploded" } });
    expect(failed?.duration_ms).toEqual(expect.any(Number));
    expect(linesOf("log-failed").map((line) => line.event)).toEqual(["request_started", "request_failed"]);
  });

  it("logs request_failed for a thrown 5xx ApiError", async () => {
    await get("/unavailable", { "x-correlation-id": "log-503" });
    expect(linesOf("log-503").find((line) => line.event === "request_failed")).toMatchObject({
      status_code: 503,
      err: { message: "The worker is not answering" },
    });
  });

  it("logs slow_request at warn level past the threshold", async () => {
    await get("/slow", { "x-correlation-id": "log-slow" });
    const slow = linesOf("log-slow").find((line) => line.event === "slow_request");
    expect(slow).toMatchObject({
      level: "warn",
      method: "GET",
      path: "/slow",
      status_code: 200,
      threshold_ms: 50,
    });
    expect(slow?.duration_ms).toBeGreaterThan(50);
  });

  it("does not log slow_request under the threshold", async () => {
    await get("/json", { "x-correlation-id": "log-fast" });
    expect(linesOf("log-fast").map((line) => line.event)).not.toContain("slow_request");
  });

  it("logs a readiness probe's 503 as request_completed at debug level, not as a failure", async () => {
    await get("/readyz", { "x-correlation-id": "log-not-ready" });
    expect(linesOf("log-not-ready").map((line) => [line.event, line.level, line.status_code])).toEqual([
      ["request_started", "debug", undefined],
      ["request_completed", "debug", 503],
    ]);
  });

  it("logs health probes at debug level", async () => {
    await get("/healthz", { "x-correlation-id": "log-probe" });
    expect(linesOf("log-probe").map((line) => [line.event, line.level])).toEqual([
      ["request_started", "debug"],
      ["request_completed", "debug"],
    ]);
  });
});

describe("secrets", () => {
  it("never reach a log line or the response, from an error message, a header or a nested object", async () => {
    const before = logs.text().length;
    const res = await get("/leaky?api_key=x", {
      "x-correlation-id": "secret-1",
      authorization: `Bearer ${SECRET}`,
      cookie: `session=${SECRET}`,
    });
    expect(res.status).toBe(500);
    expect(res.text).not.toContain(SECRET);
    expect(JSON.stringify(res.headers)).not.toContain(SECRET);
    const written = logs.text().slice(before);
    expect(written).toContain("request_failed");
    expect(written).toContain("leaky_log");
    expect(written).not.toContain(SECRET);
  });
});

describe("useObservability", () => {
  it("refuses an app that already has routes, whose routes it could not cover", () => {
    const late = new Hono();
    late.get("/", (c) => c.text("hi"));
    expect(() => useObservability(late, { logger })).toThrow(/before any route/);
  });
});
