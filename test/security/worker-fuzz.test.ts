// Property-based fuzzing of every worker endpoint, in-process on real PostgreSQL and Redis: never
// a 5xx, always a well-formed X-Correlation-ID, every error JSON with the same correlation_id.
// Replay a failure with FC_SEED=<seed>.
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  idOf,
  notificationBody,
  startTestWorker,
  TOKEN,
  type TestWorker,
} from "../../services/worker/test/harness.js";
import {
  contentTypes,
  count,
  deeplyNested,
  expectSafeAnswer,
  hugeStrings,
  jsonValues,
  methods,
  nastyStrings,
  pathSegments,
  printableHeaderValue,
  queryStrings,
  runs,
  tallyReport,
} from "./support/fuzz.js";

const LIMIT = 1024 * 1024;
const bearer = `Bearer ${TOKEN}`;

let worker: TestWorker;
let notificationId: string;

beforeAll(async () => {
  // Running as in production (consumer on, no webhook: deliveries are stored only), so ready.
  worker = await startTestWorker();
  notificationId = await idOf(await worker.notify(notificationBody()));
});

afterAll(async () => {
  console.log(tallyReport("worker fuzzing"));
  await worker?.close();
});

const request = (path: string, init: RequestInit = {}) =>
  Promise.resolve(worker.worker.app.request(path, init));
const idempotencyKeys = fc.uuid().map((id) => `fuzz:${id}`);

async function notify(body: RequestInit["body"], headers: Record<string, string> = {}) {
  count("POST /v1/notifications");
  const response = await request("/v1/notifications", {
    method: "POST",
    headers: {
      authorization: bearer,
      "content-type": "application/json",
      "idempotency-key": `fuzz:${crypto.randomUUID()}`,
      ...headers,
    },
    body,
  });
  return { response, error: await expectSafeAnswer(response, "POST") };
}

describe("POST /v1/notifications", () => {
  it("answers any JSON value with 202 or a JSON 4xx", async () => {
    await fc.assert(
      fc.asyncProperty(jsonValues, async (value) => {
        await notify(JSON.stringify(value));
      }),
      runs(500),
    );
  });

  it("answers fields of any type and content with 202 or a JSON 4xx", async () => {
    const field = fc.oneof(nastyStrings, jsonValues);
    const body = fc.record(
      {
        event: fc.oneof(fc.constantFrom("task.created", "task.completed"), field),
        org_id: field,
        task: fc.oneof(
          fc.record(
            {
              id: fc.oneof(fc.uuid(), field),
              title: field,
              status: fc.oneof(fc.constantFrom("open", "completed"), field),
            },
            { requiredKeys: [] },
          ),
          field,
        ),
        extra: field,
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(body, async (value) => {
        const { response } = await notify(JSON.stringify(value));
        if (typeof value.org_id !== "string") expect(response.status).toBe(400);
      }),
      runs(600),
    );
  });

  it("answers a well-formed notification whose strings are anything with 202 or a JSON 400", async () => {
    const body = fc.record({ org_id: nastyStrings, title: nastyStrings, id: fc.uuid() });
    await fc.assert(
      fc.asyncProperty(body, async ({ org_id, title, id }) => {
        const { response } = await notify(
          JSON.stringify({ event: "task.created", org_id, task: { id, title, status: "open" } }),
        );
        expect(response.status).toBeOneOf([202, 400]);
      }),
      runs(400),
    );
  });

  it("answers any bytes, under any content type, with 202 or a JSON 4xx", async () => {
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 300 }),
      fc
        .uint8Array({ maxLength: 60 })
        .map((inner) =>
          Buffer.concat([
            Buffer.from('{"event":"task.created","org_id":"'),
            Buffer.from(inner),
            Buffer.from(`","task":{"id":"${crypto.randomUUID()}","title":"t","status":"open"}}`),
          ]),
        ),
    );
    await fc.assert(
      fc.asyncProperty(bytes, contentTypes, async (body, contentType) => {
        await notify(Buffer.from(body), { "content-type": contentType });
      }),
      runs(400),
    );
  });

  it("answers an empty or missing body with a JSON 4xx", async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(undefined, ""), contentTypes, async (body, contentType) => {
        const { response } = await notify(body, { "content-type": contentType });
        expect(response.status).toBeGreaterThanOrEqual(400);
      }),
      runs(100),
    );
  });

  it("answers JSON nested up to 100 000 levels deep with a JSON 400", async () => {
    const nesting = fc.record({
      depth: fc.oneof(fc.constant(10_000), fc.integer({ min: 1, max: 100_000 })),
      kind: fc.constantFrom("array" as const, "object" as const),
    });
    await fc.assert(
      fc.asyncProperty(nesting, async ({ depth, kind }) => {
        const nested = deeplyNested(depth, kind);
        const body = `{"event":"task.created","org_id":"o","task":${nested}}`;
        expect((await notify(body)).response.status).toBe(400);
      }),
      runs(60),
    );
  });

  it("answers a body over 1 MiB with 413, and one under it otherwise", async () => {
    await fc.assert(
      fc.asyncProperty(hugeStrings, async (text) => {
        const body = JSON.stringify(notificationBody({ org_id: text }));
        const { response, error } = await notify(body);
        if (Buffer.byteLength(body) > LIMIT) expect(error?.error).toBe("payload_too_large");
        else expect(response.status).not.toBe(413);
      }),
      runs(40),
    );
  });

  it("answers any Idempotency-Key with 202 or a JSON 400", async () => {
    const key = fc.oneof(
      printableHeaderValue(250),
      fc.string({ unit: fc.constantFrom(..."abcXYZ019._:-"), minLength: 0, maxLength: 210 }),
    );
    await fc.assert(
      fc.asyncProperty(key, async (idempotencyKey) => {
        const { response } = await notify(JSON.stringify(notificationBody()), {
          "idempotency-key": idempotencyKey,
        });
        const safe = /^[A-Za-z0-9._:-]{1,200}$/.test(idempotencyKey);
        expect(response.status).toBe(safe ? 202 : 400);
      }),
      runs(300),
    );
  });

  it("answers the same Idempotency-Key again with the same notification, whatever the (valid) body", async () => {
    const other = fc.record({
      event: fc.constantFrom("task.created", "task.completed"),
      org_id: fc.string({ minLength: 1, maxLength: 50 }),
      title: fc.string({ maxLength: 100 }),
    });
    await fc.assert(
      fc.asyncProperty(idempotencyKeys, other, async (key, { event, org_id, title }) => {
        const send = async (body: unknown) => {
          count("POST /v1/notifications");
          const response = await request("/v1/notifications", {
            method: "POST",
            headers: { authorization: bearer, "content-type": "application/json", "idempotency-key": key },
            body: JSON.stringify(body),
          });
          expect(response.status).toBe(202);
          return ((await response.json()) as { id: string }).id;
        };
        const first = await send(notificationBody());
        const again = await send({ event, org_id, task: { id: crypto.randomUUID(), title, status: "open" } });
        expect(again).toBe(first);
      }),
      runs(100),
    );
  });
});

describe("GET /v1/notifications/:id", () => {
  it("answers any path segment with 200, 404 or a JSON 4xx", async () => {
    await fc.assert(
      fc.asyncProperty(pathSegments, queryStrings(["id"]), async (segment, query) => {
        count("GET /v1/notifications/:id");
        await expectSafeAnswer(
          await request(`/v1/notifications/${segment}?${query}`, { headers: { authorization: bearer } }),
        );
      }),
      runs(800),
    );
  });

  it("shows the stored notification", async () => {
    const response = await request(`/v1/notifications/${notificationId}`, {
      headers: { authorization: bearer },
    });
    expect(response.status).toBe(200);
  });
});

describe("every route", () => {
  const routes = fc.constantFrom(
    "/v1/notifications",
    "/v1/notifications/00000000-0000-4000-8000-000000000000",
    "/healthz",
    "/readyz",
    "/openapi.json",
    "/docs",
    "/",
    "/v1",
    "/v2/notifications",
    "//v1/notifications",
    "/v1/notifications/",
    "/V1/NOTIFICATIONS",
  );

  it("answers any method on any route with a success or a JSON 4xx", async () => {
    await fc.assert(
      fc.asyncProperty(methods, routes, fc.boolean(), async (method, path, authenticated) => {
        count("any method, any route");
        const response = await request(path, {
          method,
          headers: authenticated ? { authorization: bearer } : {},
        });
        await expectSafeAnswer(response, method);
      }),
      runs(400),
    );
  });

  it("answers any extra headers with a success or a JSON 4xx", async () => {
    const headers = fc.dictionary(
      fc.oneof(
        fc.string({
          unit: fc.constantFrom(..."abcdefghijklmnopqrstuvwxyz-0123456789_!#$%&'*+.^`|~"),
          minLength: 1,
          maxLength: 20,
        }),
        fc.constantFrom(
          "content-type",
          "accept",
          "accept-encoding",
          "origin",
          "cookie",
          "expect",
          "x-forwarded-for",
        ),
      ),
      printableHeaderValue(200),
      { maxKeys: 6 },
    );
    await fc.assert(
      fc.asyncProperty(headers, routes, methods, async (extra, path, method) => {
        count("extra headers, any route");
        const response = await request(path, { method, headers: { authorization: bearer, ...extra } });
        await expectSafeAnswer(response, method);
      }),
      runs(400),
    );
  });

  it("answers any Authorization but the worker token with a JSON 401", async () => {
    const header = fc.oneof(
      printableHeaderValue(300),
      printableHeaderValue(300).map((value) => `Bearer ${value}`),
      fc.integer({ min: 0, max: 10_000 }).map((n) => `Bearer ${"x".repeat(n)}`),
      fc.integer({ min: 1, max: TOKEN.length * 2 }).map((n) => `Bearer ${TOKEN.repeat(2).slice(0, n)}`),
    );
    await fc.assert(
      fc.asyncProperty(header, fc.boolean(), async (authorization, post) => {
        fc.pre(!/^bearer +/i.test(authorization) || authorization.replace(/^bearer +/i, "").trim() !== TOKEN);
        count(post ? "POST /v1/notifications" : "GET /v1/notifications/:id");
        const response = await request(post ? "/v1/notifications" : `/v1/notifications/${notificationId}`, {
          method: post ? "POST" : "GET",
          headers: { authorization, "content-type": "application/json", "idempotency-key": "k" },
          ...(post && { body: JSON.stringify(notificationBody()) }),
        });
        const error = await expectSafeAnswer(response, post ? "POST" : "GET");
        expect(error?.error).toBe("unauthorized");
      }),
      runs(500),
    );
  });
});

// Each of these was a 500 until the fuzzing above found it; kept as plain examples.
describe("inputs the fuzzing found", () => {
  it.each([
    ["a NUL in org_id", { org_id: "org\u0000" }],
    ["a lone surrogate in org_id", { org_id: "\ud800" }],
    ["a NUL in the task title", { task: { id: crypto.randomUUID(), title: "\u0000", status: "open" } }],
    [
      "a lone surrogate in the task title",
      { task: { id: crypto.randomUUID(), title: "x\udc00", status: "open" } },
    ],
  ])("answers %s with 400", async (_kind, overrides) => {
    const { error } = await notify(JSON.stringify(notificationBody(overrides)));
    expect(error).toMatchObject({ error: "validation_failed" });
  });
});

describe("after the fuzzing", () => {
  it("the app still answers /healthz", async () => {
    expect((await request("/healthz")).status).toBe(200);
  });

  it("wrote only whole JSON log lines", () => {
    expect(worker.logs.raw.length).toBeGreaterThan(1000);
    expect(worker.logs.lines).toHaveLength(worker.logs.raw.length);
  });
});
