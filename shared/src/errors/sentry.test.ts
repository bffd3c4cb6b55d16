// Sentry's init is global to the process: this file owns it (vitest runs each file in its own fork).
import * as Sentry from "@sentry/node";
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { withCorrelation } from "../correlation/index.js";
import { useObservability } from "../http/index.js";
import { capturedLogger, serveApp } from "../testing/http.js";
import { ApiError, flushErrors, initSentryFromEnv, reportError } from "./index.js";
import { startSentryIngest, type SentryIngest } from "../testing/sentry-ingest.js";

const SECRET = "change-me-jwt-secret-for-sentry-test-000";

const logs = capturedLogger({ level: "debug", secrets: [SECRET] });
const app = useObservability(new Hono(), { logger: logs.logger });
app.get("/boom", () => {
  throw new Error("database exploded");
});
app.get("/leak", () => {
  throw new Error(`token ${SECRET} rejected by the database`);
});
app.get("/task", () => {
  throw new ApiError(404, "task_not_found", "No such task");
});
app.get("/forbidden", () => {
  throw new HTTPException(403);
});
app.post("/validate", async (c) => c.json(z.object({ title: z.string() }).parse(await c.req.json())));
app.get("/unavailable", () => {
  throw new ApiError(503, "worker_unavailable", "The worker is not answering");
});
app.get("/direct", (c) => {
  Sentry.captureMessage("captured straight through the SDK");
  return c.json({ ok: true });
});

let base: string;
let server: Awaited<ReturnType<typeof serveApp>>;
let ingest: SentryIngest;
const dir = mkdtempSync(join(tmpdir(), "ward-sentry-"));

beforeAll(async () => {
  ingest = await startSentryIngest();
  const dsnFile = join(dir, "sentry-dsn");
  writeFileSync(dsnFile, `${ingest.dsn}\n`);
  const enabled = await initSentryFromEnv({
    service: "gateway",
    release: "1.2.3",
    env: { SENTRY_DSN_FILE: dsnFile, ENVIRONMENT: "staging", JWT_SECRET: SECRET },
  });
  expect(enabled).toBe(true);
  server = await serveApp(app);
  base = server.url;
});
afterAll(async () => {
  await server.close();
  await ingest.close();
  rmSync(dir, { recursive: true, force: true });
});

async function send(
  path: string,
  correlationId: string,
  init: { method?: "GET" | "POST"; body?: string } = {},
) {
  const res = await request(`${base}${path}`, {
    method: init.method ?? "GET",
    body: init.body,
    headers: {
      "x-correlation-id": correlationId,
      authorization: `Bearer ${SECRET}`,
      cookie: `session=${SECRET}`,
      "content-type": "application/json",
    },
  });
  await res.body.dump();
  expect(await flushErrors(5000)).toBe(true);
  return res.statusCode;
}

function eventsOf(correlationId: string) {
  return ingest.events().filter((event) => event.tags?.correlation_id === correlationId);
}

describe("Sentry", () => {
  it("receives a 5xx with the correlation_id, service and environment tags and the release", async () => {
    expect(await send("/boom", "sentry-500")).toBe(500);
    const [event] = eventsOf("sentry-500");
    expect(event?.tags).toMatchObject({
      correlation_id: "sentry-500",
      service: "gateway",
      environment: "staging",
    });
    expect(event).toMatchObject({ environment: "staging", release: "1.2.3" });
    expect(event?.exception?.values?.[0]?.type).toBe("Error");
  });

  it("receives no secret, cookie, Authorization header or query string", async () => {
    await send("/leak?api_key=abc123", "sentry-clean");
    const [event] = eventsOf("sentry-clean");
    expect(event).toBeDefined();
    const text = JSON.stringify(event);
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain("abc123");
    expect(event?.exception?.values?.[0]?.value).toBe("token [redacted] rejected by the database");
    expect(Object.keys(event?.request?.headers ?? {}).map((name) => name.toLowerCase())).not.toContain(
      "authorization",
    );
    expect(event?.request?.cookies).toBeUndefined();
  });

  it("receives a thrown 5xx ApiError", async () => {
    expect(await send("/unavailable", "sentry-503")).toBe(503);
    expect(eventsOf("sentry-503")).toHaveLength(1);
  });

  it.each([
    ["an ApiError 404", "/task", "GET", undefined, 404],
    ["an HTTPException 403", "/forbidden", "GET", undefined, 403],
    ["a validation error", "/validate", "POST", JSON.stringify({ title: 1 }), 400],
    ["malformed JSON", "/validate", "POST", "{", 400],
    ["an unknown route", "/nowhere", "GET", undefined, 404],
  ] as const)("receives nothing for %s", async (_kind, path, method, body, status) => {
    const before = ingest.events().length;
    expect(await send(path, `sentry-4xx-${path.slice(1)}`, { method, body })).toBe(status);
    expect(ingest.events().slice(before)).toEqual([]);
  });

  it("tags what the SDK captures on its own during a request with its correlation_id", async () => {
    await send("/direct", "sentry-direct");
    expect(eventsOf("sentry-direct")).toEqual([
      expect.objectContaining({ message: "captured straight through the SDK" }),
    ]);
  });

  it("receives reportError from a job with the job's correlation_id", async () => {
    withCorrelation("job-42", () => reportError(new Error("delivery parked after 5 attempts")));
    await flushErrors(5000);
    expect(eventsOf("job-42")).toEqual([
      expect.objectContaining({ exception: expect.objectContaining({}) as unknown }),
    ]);
    expect(eventsOf("job-42")[0]?.exception?.values?.[0]?.value).toBe("delivery parked after 5 attempts");
  });
});
