// The secrets canary: the built gateway and worker run the whole flow with a distinct random value
// in every secret setting, each one live (a PostgreSQL role with the canary password on a server
// that checks passwords, a Redis that requires the canary password, a Sentry ingest reached
// through the canary key). Every log line of every process, every response (status, headers,
// body), every Sentry request and every webhook call is captured; no canary may appear in any
// of them, nor in the messages of services that refuse to start or cannot log in.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sign } from "hono/jwt";
import { Redis } from "ioredis";
import { connectPostgres, type Sql } from "@ward/shared/postgres";
import {
  privatePostgres,
  privateRedis,
  randomSecret,
  waitFor,
  type PrivatePostgres,
  type PrivateRedis,
  type RunningProcess,
  startWebhookReceiver,
  type WebhookReceiver,
  startSentryIngest,
  type SentryIngest,
} from "@ward/shared/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyWebhookSignature } from "../../services/worker/src/webhook/signature.js";
import {
  builtService,
  runBuiltMigrations,
  runBuiltUntilExit,
  type Service,
} from "../support/built-services.js";

/** One canary per secret setting; for the URLs, the password (or the DSN's public key) inside. */
const CANARIES = {
  JWT_SECRET: randomSecret("jwt"),
  WORKER_TOKEN: randomSecret("worker-token"),
  WEBHOOK_SIGNING_SECRET: randomSecret("webhook"),
  DATABASE_URL: randomSecret("db-password"),
  REDIS_URL: randomSecret("redis-password"),
  // Sentry takes only word characters in a DSN's public key.
  SENTRY_DSN: `sentry_canary_${randomBytes(16).toString("hex")}`,
};

/** The canaries of settings given only to services that must refuse to start, or fail to log in. */
const REFUSED = {
  SHORT_JWT_SECRET: `jwt-${randomBytes(6).toString("hex")}`,
  SHORT_WORKER_TOKEN_FILE: `wt-${randomBytes(6).toString("hex")}`,
  SHORT_WEBHOOK_SECRET: `wh-${randomBytes(6).toString("hex")}`,
  BAD_DSN: `http://not-a-key-${randomBytes(8).toString("hex")}@127.0.0.1:9/`,
  MYSQL_PASSWORD: randomSecret("mysql-password"),
  HTTP_REDIS_PASSWORD: randomSecret("http-redis-password"),
  WRONG_DB_PASSWORD: randomSecret("wrong-db-password"),
};

/** The forms a canary could leak in: as is, base64, base64url, and 12 hex digits of its random part. */
function formsOf(canary: string): string[] {
  const random = /[0-9a-f]{12,}/.exec(canary)?.[0] ?? canary;
  return [
    canary,
    Buffer.from(canary).toString("base64").replace(/=+$/, ""),
    Buffer.from(canary).toString("base64url"),
    random.slice(0, 12),
    random.slice(-12),
  ];
}

/** Each canary found in `text`, in any form, named with the text around it. */
function canariesIn(text: string, canaries: Record<string, string> = { ...CANARIES, ...REFUSED }): string[] {
  return Object.entries(canaries).flatMap(([name, canary]) =>
    formsOf(canary).flatMap((form) => {
      const at = text.indexOf(form);
      return at === -1 ? [] : [`${name} in …${text.slice(Math.max(0, at - 200), at + form.length + 50)}…`];
    }),
  );
}

let pg: PrivatePostgres;
let admin: Sql;
let redis: PrivateRedis;
let ingest: SentryIngest;
let receiver: WebhookReceiver;
let gateway: Service;
let worker: Service;
const processes: RunningProcess[] = [];
/** Every response of the flow, whole: status line, headers, body. */
const responses: string[] = [];
let databaseUrl: string;
const dir = mkdtempSync(join(tmpdir(), "ward-canary-"));

/** A request whose whole answer is recorded; resolves with its status and parsed body. */
async function call(base: string, path: string, init: RequestInit & { json?: unknown } = {}) {
  const { json, ...rest } = init;
  const headers = new Headers(rest.headers);
  if (json !== undefined) headers.set("content-type", "application/json");
  const response = await fetch(`${base}${path}`, {
    ...rest,
    headers,
    body: json !== undefined ? JSON.stringify(json) : rest.body,
  });
  const text = await response.text();
  const head = [...response.headers].map(([name, value]) => `${name}: ${value}`).join("\n");
  responses.push(`${init.method ?? "GET"} ${path} -> ${response.status}\n${head}\n\n${text}`);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: response.status, body: body as Record<string, unknown> };
}

const now = () => Math.floor(Date.now() / 1000);
const userToken = (claims: Record<string, unknown> = {}, secret = CANARIES.JWT_SECRET) =>
  sign({ sub: "user-1", org_id: "org-1", exp: now() + 600, ...claims }, secret, "HS256");
const asUser = async (claims?: Record<string, unknown>) => ({
  authorization: `Bearer ${await userToken(claims)}`,
});
const asGateway = { authorization: `Bearer ${CANARIES.WORKER_TOKEN}` };
const notification = () => ({
  event: "task.created",
  org_id: "org-1",
  task: { id: crypto.randomUUID(), title: "sent straight to the worker", status: "open" },
});

beforeAll(async () => {
  pg = await privatePostgres();
  await pg.start();
  admin = connectPostgres(pg.url, { applicationName: "ward-canary-admin", max: 1 });
  // The services log in as a role of their own, whose password is the canary.
  await admin.unsafe(`create role ward_app login password '${CANARIES.DATABASE_URL}'`);
  await admin.unsafe("create database ward owner ward_app");
  databaseUrl = `postgres://ward_app:${CANARIES.DATABASE_URL}@127.0.0.1:${pg.port}/ward`;

  redis = await privateRedis({ password: CANARIES.REDIS_URL });
  await redis.start();
  ingest = await startSentryIngest(CANARIES.SENTRY_DSN);
  receiver = await startWebhookReceiver();
  const env = {
    ENVIRONMENT: "staging",
    LOG_LEVEL: "debug",
    DATABASE_URL: databaseUrl,
    REDIS_URL: redis.url,
    SENTRY_DSN: ingest.dsn,
    WORKER_TOKEN: CANARIES.WORKER_TOKEN,
    SHUTDOWN_DELAY_MS: "0",
  };
  for (const name of ["gateway", "worker"] as const) {
    const run = await runBuiltMigrations(name, env);
    processes.push(run);
    expect(await run.exited, run.logs.text()).toBe(0);
  }
  worker = builtService("worker", {
    ...env,
    WEBHOOK_URL: receiver.url,
    WEBHOOK_SIGNING_SECRET: CANARIES.WEBHOOK_SIGNING_SECRET,
  });
  processes.push(await worker.start());
  gateway = builtService("gateway", {
    ...env,
    JWT_SECRET: CANARIES.JWT_SECRET,
    WORKER_URL: worker.url,
  });
  processes.push(await gateway.start());
}, 120_000);

afterAll(async () => {
  const lines = processes.reduce((sum, run) => sum + run.logs.raw.length + run.stderr.raw.length, 0);
  console.log(
    `secrets canary: ${Object.keys(CANARIES).length + Object.keys(REFUSED).length} canaries; searched ` +
      `${lines} output lines of ${processes.length} processes, ${responses.length} responses, ` +
      `${ingest?.requests.length} Sentry requests (${ingest?.events().length} events), ` +
      `${receiver?.calls.length} webhook calls`,
  );
  for (const service of [gateway, worker]) await service?.runs.at(-1)?.stop();
  await admin?.end({ timeout: 5 });
  await pg?.destroy();
  await redis?.stop();
  await ingest?.close();
  await receiver?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("the flow, with a canary in every secret setting", () => {
  let taskId: string;

  it("serves probes and API docs on both services", async () => {
    for (const base of [gateway.url, worker.url]) {
      for (const path of ["/healthz", "/readyz", "/openapi.json", "/docs"]) {
        expect((await call(base, path)).status, `${base}${path}`).toBe(200);
      }
    }
  });

  it("creates, lists, reads and completes tasks with tokens signed by the canary JWT_SECRET", async () => {
    const created: string[] = [];
    for (const title of ["first", "second", "third"]) {
      const { status, body } = await call(gateway.url, "/api/v1/tasks", {
        method: "POST",
        headers: await asUser(),
        json: { title, description: "with a canary in every secret" },
      });
      expect(status).toBe(201);
      created.push(String(body.id));
    }
    taskId = created[0]!;
    expect((await call(gateway.url, "/api/v1/tasks?limit=2", { headers: await asUser() })).status).toBe(200);
    expect((await call(gateway.url, `/api/v1/tasks/${taskId}`, { headers: await asUser() })).status).toBe(
      200,
    );
    const complete = { method: "POST", headers: await asUser() };
    expect((await call(gateway.url, `/api/v1/tasks/${taskId}/complete`, complete)).status).toBe(200);
    expect((await call(gateway.url, `/api/v1/tasks/${taskId}/complete`, complete)).status).toBe(200);
  });

  it("answers every kind of client error", async () => {
    const post = async (body: string, headers: Record<string, string> = {}) =>
      (
        await call(gateway.url, "/api/v1/tasks", {
          method: "POST",
          headers: { ...(await asUser()), "content-type": "application/json", ...headers },
          body,
        })
      ).status;
    expect(await post('{"title":""}')).toBe(400);
    expect(await post("{")).toBe(400);
    expect(await post('{"title":"x"}', { "content-type": "text/plain" })).toBe(415);
    expect(await post(JSON.stringify({ title: "x".repeat(1_100_000) }))).toBe(413);
    const unauthorized: Record<string, string>[] = [
      {},
      { authorization: `Bearer ${await userToken({}, "change-me-another-key-0123456789abcdefgh")}` },
      { authorization: `Bearer ${await userToken({ exp: now() - 60 })}` },
    ];
    for (const headers of unauthorized)
      expect((await call(gateway.url, "/api/v1/tasks", { headers })).status).toBe(401);
    const otherOrg = await asUser({ org_id: "org-2" });
    expect((await call(gateway.url, `/api/v1/tasks/${taskId}`, { headers: otherOrg })).status).toBe(404);
    expect((await call(gateway.url, "/nowhere")).status).toBe(404);

    const accepted = await call(worker.url, "/v1/notifications", {
      method: "POST",
      headers: { ...asGateway, "idempotency-key": `canary:${crypto.randomUUID()}` },
      json: notification(),
    });
    expect(accepted.status).toBe(202);
    expect(
      (await call(worker.url, `/v1/notifications/${String(accepted.body.id)}`, { headers: asGateway }))
        .status,
    ).toBe(200);
    const wrong = { authorization: `Bearer ${CANARIES.WORKER_TOKEN.slice(0, -1)}x`, "idempotency-key": "k" };
    expect(
      (await call(worker.url, "/v1/notifications", { method: "POST", headers: wrong, json: notification() }))
        .status,
    ).toBe(401);
    const noKey = await call(worker.url, "/v1/notifications", {
      method: "POST",
      headers: asGateway,
      json: {},
    });
    expect(noKey.status).toBe(400);
  });

  it("delivers every notification to the webhook, signed with the canary WEBHOOK_SIGNING_SECRET", async () => {
    await waitFor(() => receiver.calls.filter((c) => c.status === 200).length >= 5, {
      timeoutMs: 20_000,
      what: "5 webhook calls (3 created, 1 completed, 1 direct)",
    });
    for (const { headers, body } of receiver.calls) {
      const signed = {
        timestamp: headers["x-ward-timestamp"] as string,
        signature: headers["x-ward-signature"] as string,
        body,
      };
      expect(verifyWebhookSignature({ secret: CANARIES.WEBHOOK_SIGNING_SECRET, ...signed })).toBe(true);
    }
  });

  it("turns unready while Redis refuses the canary password, and ready again once it takes it", async () => {
    const control = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    try {
      // A rotated password: every new connection of the services now fails to log in.
      await control.config("SET", "requirepass", `rotated-${randomBytes(8).toString("hex")}`);
      await control.call("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes");
      for (const base of [gateway.url, worker.url]) {
        await waitFor(async () => (await call(base, "/readyz")).status === 503, { what: `${base} unready` });
      }
      await call(gateway.url, `/api/v1/tasks/${taskId}`, { headers: await asUser() });
      await call(worker.url, "/v1/notifications", {
        method: "POST",
        headers: { ...asGateway, "idempotency-key": `canary:${crypto.randomUUID()}` },
        json: notification(),
      });
      await control.config("SET", "requirepass", CANARIES.REDIS_URL);
      for (const base of [gateway.url, worker.url]) {
        await waitFor(async () => (await call(base, "/readyz")).status === 200, {
          what: `${base} ready again`,
        });
      }
    } finally {
      control.disconnect();
    }
  });

  it("reports a 5xx of each service to Sentry, through the canary DSN", async () => {
    // Honest failures: the tables each service needs are gone, as after a bad manual migration.
    const ward = connectPostgres(pg.url.replace(/\/postgres$/, "/ward"), {
      applicationName: "ward-canary-admin",
      max: 1,
    });
    try {
      await ward.unsafe("drop table tasks cascade; drop table notifications cascade");
    } finally {
      await ward.end({ timeout: 5 });
    }
    expect((await call(gateway.url, "/api/v1/tasks", { headers: await asUser() })).status).toBe(500);
    const broken = await call(worker.url, "/v1/notifications", {
      method: "POST",
      headers: { ...asGateway, "idempotency-key": `canary:${crypto.randomUUID()}` },
      json: notification(),
    });
    expect(broken.status).toBe(500);
    for (const service of ["gateway", "worker"]) {
      await waitFor(() => ingest.events().some((event) => event.tags?.service === service), {
        timeoutMs: 10_000,
        what: `a Sentry event from the ${service}`,
      });
    }
    // The DSN canary was live: the SDK authenticated with it.
    expect(ingest.requests.some((request) => request.url.includes(`sentry_key=${CANARIES.SENTRY_DSN}`))).toBe(
      true,
    );
  });
});

describe("services that cannot start or cannot log in", () => {
  const runs: RunningProcess[] = [];
  afterAll(() => processes.push(...runs));

  it("the gateway refuses a short canary JWT_SECRET, a MySQL DATABASE_URL, a bad DSN and PORT, naming each", async () => {
    const run = await runBuiltUntilExit("gateway", {
      ENVIRONMENT: "staging",
      PORT: "eighty",
      JWT_SECRET: REFUSED.SHORT_JWT_SECRET,
      DATABASE_URL: `mysql://ward_app:${REFUSED.MYSQL_PASSWORD}@127.0.0.1:3306/ward`,
      REDIS_URL: redis.url,
      SENTRY_DSN: REFUSED.BAD_DSN,
      WORKER_TOKEN: CANARIES.WORKER_TOKEN,
      WORKER_URL: "http://127.0.0.1:9",
    });
    runs.push(run);
    expect(await run.exited).toBe(78);
    const line = run.stderr.find((entry) => entry.event === "config_invalid");
    expect((line?.errors as { variable: string }[]).map((error) => error.variable).sort()).toEqual([
      "DATABASE_URL",
      "JWT_SECRET",
      "PORT",
      "SENTRY_DSN",
    ]);
  });

  it("the worker refuses a short WORKER_TOKEN_FILE and signing secret, an http REDIS_URL and MAX_ATTEMPTS, naming each", async () => {
    const tokenFile = join(dir, "worker-token");
    writeFileSync(tokenFile, `${REFUSED.SHORT_WORKER_TOKEN_FILE}\n`);
    const run = await runBuiltUntilExit("worker", {
      ENVIRONMENT: "staging",
      DATABASE_URL: databaseUrl,
      REDIS_URL: `http://:${REFUSED.HTTP_REDIS_PASSWORD}@127.0.0.1:6379`,
      WORKER_TOKEN_FILE: tokenFile,
      WEBHOOK_URL: receiver.url,
      WEBHOOK_SIGNING_SECRET: REFUSED.SHORT_WEBHOOK_SECRET,
      MAX_ATTEMPTS: "lots",
    });
    runs.push(run);
    expect(await run.exited).toBe(78);
    const line = run.stderr.find((entry) => entry.event === "config_invalid");
    expect((line?.errors as { variable: string }[]).map((error) => error.variable).sort()).toEqual([
      "MAX_ATTEMPTS",
      "REDIS_URL",
      "WEBHOOK_SIGNING_SECRET",
      "WORKER_TOKEN",
    ]);
  });

  it("the migration exits 1 when PostgreSQL refuses the password", async () => {
    const wrong = databaseUrl.replace(CANARIES.DATABASE_URL, REFUSED.WRONG_DB_PASSWORD);
    const run = await runBuiltMigrations("gateway", { ENVIRONMENT: "staging", DATABASE_URL: wrong });
    runs.push(run);
    expect(await run.exited).toBe(1);
    expect(run.logs.find((line) => line.event === "migration_failed")).toBeDefined();
  });

  it("the gateway runs unready when PostgreSQL refuses the password, reports its 5xx, and stops cleanly", async () => {
    const wrong = databaseUrl.replace(CANARIES.DATABASE_URL, REFUSED.WRONG_DB_PASSWORD);
    const service = builtService("gateway", {
      ENVIRONMENT: "staging",
      LOG_LEVEL: "debug",
      DATABASE_URL: wrong,
      REDIS_URL: redis.url,
      JWT_SECRET: CANARIES.JWT_SECRET,
      WORKER_TOKEN: CANARIES.WORKER_TOKEN,
      WORKER_URL: worker.url,
      SENTRY_DSN: ingest.dsn,
      SHUTDOWN_DELAY_MS: "0",
    });
    runs.push(await service.start({ ready: false }));
    await waitFor(async () => (await call(service.url, "/readyz")).status === 503);
    const failed = await call(service.url, "/api/v1/tasks", { headers: await asUser() });
    expect(failed.status).toBeGreaterThanOrEqual(500);
    // Stopped at once: the 5xx's Sentry event must still be sent before the process exits.
    expect(await service.stop()).toBe(0);
    const reported = (event: { tags?: Record<string, string> }) =>
      event.tags?.correlation_id === failed.body.correlation_id;
    expect(ingest.events().some(reported)).toBe(true);
  });
});

describe("no canary appears", () => {
  it("recognises a canary in every form it looks for (the search itself works)", () => {
    for (const [name, canary] of Object.entries({ ...CANARIES, ...REFUSED })) {
      for (const form of formsOf(canary))
        expect(canariesIn(`…${form}…`)[0], form).toMatch(new RegExp(`^${name} in `));
    }
  });

  it("in any log line or message of any process: migrations, both services, refused starts", () => {
    const output = processes.map((run) => `${run.logs.text()}\n${run.stderr.text()}`).join("\n");
    // The output covers every path a secret could take: loading, connecting, failing, refusing.
    const events = new Set(
      processes.flatMap((run) => [...run.logs.lines, ...run.stderr.lines].map((l) => l.event)),
    );
    for (const event of [
      "config_loaded",
      "migrations_done",
      "request_completed",
      "request_failed",
      "outbound_request",
      "redis_unavailable",
      "config_invalid",
      "migration_failed",
    ]) {
      expect(events, event).toContain(event);
    }
    expect(canariesIn(output)).toEqual([]);
  });

  it("in any response: status, headers or body", () => {
    expect(responses.length).toBeGreaterThan(30);
    expect(canariesIn(responses.join("\n"))).toEqual([]);
  });

  it("nor any internal detail in a response: no error message, stack frame or file path", () => {
    // Readiness names a failed check's error class (`"failed: <ErrorName>"`, docs/tour.md), and no more.
    const text = responses.join("\n");
    expect(text).toContain("internal_error");
    expect(text).not.toMatch(
      /does not exist|WRONGPASS|password authentication|\n\s+at |node_modules|\/dist\//,
    );
  });

  it("in any Sentry request, but for the DSN it is addressed with", () => {
    expect(ingest.events().length).toBeGreaterThanOrEqual(2);
    const sent = ingest.requests.map(({ url, headers, body }) => {
      // The public key authenticates the request to the ingest it names (URL, auth header, and the
      // envelope header's dsn and trace.public_key): that is its job. Everything else is checked.
      const [envelopeHeader = "{}", ...items] = body.split("\n");
      const { dsn: _dsn, trace, ...header } = JSON.parse(envelopeHeader) as Record<string, unknown>;
      const { public_key: _key, ...traceRest } = (trace ?? {}) as Record<string, unknown>;
      const { "x-sentry-auth": _auth, ...otherHeaders } = headers;
      return [
        url.replace(/sentry_key=\w+/, ""),
        JSON.stringify(otherHeaders),
        JSON.stringify(header),
        JSON.stringify(traceRest),
        ...items,
      ].join("\n");
    });
    expect(canariesIn(sent.join("\n"))).toEqual([]);
  });

  it("in any webhook call, but for the signature derived from it", () => {
    expect(receiver.calls.length).toBeGreaterThanOrEqual(5);
    const calls = receiver.calls.map(({ headers, body }) => {
      const { "x-ward-signature": _signature, ...rest } = headers;
      return `${JSON.stringify(rest)}\n${body}`;
    });
    expect(canariesIn(calls.join("\n"))).toEqual([]);
  });
});
