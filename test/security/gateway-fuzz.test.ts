// Property-based fuzzing of every gateway endpoint, in-process on real PostgreSQL and Redis:
// whatever arrives, the answer is never a 5xx, always carries a well-formed X-Correlation-ID, and
// every error is JSON with the same correlation_id. Replay a failure with FC_SEED=<seed>.
import fc from "fast-check";
import { sign } from "hono/jwt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createBacking,
  JWT_SECRET,
  startGateway,
  tokenFor,
  type Backing,
  type Gateway,
} from "../../services/gateway/test/harness.js";
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

let backing: Backing;
let gateway: Gateway;
let bearer: string;
let taskId: string;

beforeAll(async () => {
  backing = await createBacking();
  gateway = startGateway(backing, { corsOrigins: ["https://app.example.com"] });
  bearer = `Bearer ${await tokenFor()}`;
  taskId = (await gateway.createTask("the task the fuzzer reads")).id;
});

afterAll(async () => {
  console.log(tallyReport("gateway fuzzing"));
  await gateway?.close();
  await backing?.close();
});

const request = (path: string, init: RequestInit = {}) => Promise.resolve(gateway.app.request(path, init));

async function postTask(body: RequestInit["body"], headers: Record<string, string> = {}) {
  count("POST /api/v1/tasks");
  const response = await request("/api/v1/tasks", {
    method: "POST",
    headers: { authorization: bearer, "content-type": "application/json", ...headers },
    body,
  });
  return { response, error: await expectSafeAnswer(response, "POST") };
}

describe("POST /api/v1/tasks", () => {
  it("answers any JSON value with 201 or a JSON 4xx", async () => {
    await fc.assert(
      fc.asyncProperty(jsonValues, async (value) => {
        await postTask(JSON.stringify(value));
      }),
      runs(500),
    );
  });

  it("answers fields of any type and content with 201 or a JSON 4xx", async () => {
    const field = fc.oneof(nastyStrings, jsonValues);
    const body = fc.record({ title: field, description: field, extra: field }, { requiredKeys: [] });
    await fc.assert(
      fc.asyncProperty(body, async (value) => {
        const { response } = await postTask(JSON.stringify(value));
        if (typeof value.title !== "string") expect(response.status).toBe(400);
      }),
      runs(600),
    );
  });

  it("answers any bytes, under any content type, with 201 or a JSON 4xx", async () => {
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 300 }),
      // Valid JSON around bytes that are not UTF-8.
      fc
        .uint8Array({ maxLength: 60 })
        .map((inner) => Buffer.concat([Buffer.from('{"title":"'), Buffer.from(inner), Buffer.from('"}')])),
    );
    await fc.assert(
      fc.asyncProperty(bytes, contentTypes, async (body, contentType) => {
        await postTask(Buffer.from(body), { "content-type": contentType });
      }),
      runs(500),
    );
  });

  it("answers an empty or missing body with a JSON 4xx", async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(undefined, ""), contentTypes, async (body, contentType) => {
        const { response } = await postTask(body, { "content-type": contentType });
        expect(response.status).toBeGreaterThanOrEqual(400);
      }),
      runs(100),
    );
  });

  it("answers JSON nested up to 100 000 levels deep with a JSON 4xx", async () => {
    const nesting = fc.record({
      depth: fc.oneof(fc.constant(10_000), fc.integer({ min: 1, max: 100_000 })),
      kind: fc.constantFrom("array" as const, "object" as const),
      wrapped: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(nesting, async ({ depth, kind, wrapped }) => {
        const nested = deeplyNested(depth, kind);
        const { response } = await postTask(wrapped ? `{"title":"t","description":${nested}}` : nested);
        expect(response.status).toBe(400);
      }),
      runs(60),
    );
  });

  it("answers a body over 1 MiB with 413, and one under it otherwise", async () => {
    await fc.assert(
      fc.asyncProperty(hugeStrings, fc.boolean(), async (text, asTitle) => {
        const body = asTitle ? JSON.stringify({ title: text }) : text;
        const { response, error } = await postTask(body);
        if (Buffer.byteLength(body) > LIMIT) expect(error?.error).toBe("payload_too_large");
        else expect(response.status).not.toBe(413);
      }),
      runs(40),
    );
  });
});

describe("GET /api/v1/tasks", () => {
  it("answers any query string with 200 or a JSON 4xx", async () => {
    await fc.assert(
      fc.asyncProperty(queryStrings(["limit", "cursor"]), async (query) => {
        count("GET /api/v1/tasks");
        await expectSafeAnswer(
          await request(`/api/v1/tasks?${query}`, { headers: { authorization: bearer } }),
        );
      }),
      runs(600),
    );
  });

  it("answers any cursor shaped like its own (base64url JSON of a time and an id) with 200 or 400", async () => {
    const position = fc.tuple(
      fc.oneof(
        fc.date({ noInvalidDate: true }).map((date) => date.toISOString().replace("Z", "123Z")),
        fc
          .tuple(
            fc.integer({ min: 0, max: 99_999 }),
            fc.integer({ min: 0, max: 99 }),
            fc.integer({ min: 0, max: 99 }),
            fc.integer({ min: 0, max: 99 }),
          )
          .map(([y, m, d, h]) => `${pad(y, 4)}-${pad(m)}-${pad(d)}T${pad(h)}:${pad(m)}:${pad(d)}.000000Z`),
        nastyStrings,
      ),
      fc.oneof(fc.uuid(), nastyStrings, fc.jsonValue()),
    );
    await fc.assert(
      fc.asyncProperty(position, async (cursor) => {
        count("GET /api/v1/tasks");
        const encoded = Buffer.from(JSON.stringify(cursor)).toString("base64url");
        await expectSafeAnswer(
          await request(`/api/v1/tasks?cursor=${encoded}`, { headers: { authorization: bearer } }),
        );
      }),
      runs(400),
    );
  });
});

describe("GET /api/v1/tasks/:id and POST /api/v1/tasks/:id/complete", () => {
  it("answer any path segment with 200, 404 or a JSON 4xx", async () => {
    await fc.assert(
      fc.asyncProperty(pathSegments, fc.boolean(), async (segment, complete) => {
        count(complete ? "POST /api/v1/tasks/:id/complete" : "GET /api/v1/tasks/:id");
        const response = await request(`/api/v1/tasks/${segment}${complete ? "/complete" : ""}`, {
          method: complete ? "POST" : "GET",
          headers: { authorization: bearer },
        });
        await expectSafeAnswer(response, complete ? "POST" : "GET");
      }),
      runs(800),
    );
  });

  it("answer 404 to another organisation's task, whatever the claims", async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ minLength: 1, maxLength: 40 }), async (org) => {
        fc.pre(org.trim() !== "org-1");
        count("GET /api/v1/tasks/:id");
        const token = await tokenFor({ org_id: org });
        const response = await request(`/api/v1/tasks/${taskId}`, {
          headers: { authorization: `Bearer ${token}` },
        });
        const error = await expectSafeAnswer(response);
        expect(response.status, JSON.stringify(error)).toBeOneOf([401, 404]);
      }),
      runs(200),
    );
  });
});

describe("every route", () => {
  const routes = fc.constantFrom(
    "/api/v1/tasks",
    "/api/v1/tasks/00000000-0000-4000-8000-000000000000",
    "/api/v1/tasks/00000000-0000-4000-8000-000000000000/complete",
    "/healthz",
    "/readyz",
    "/openapi.json",
    "/docs",
    "/",
    "/api",
    "/api/v1",
    "/api/v2/tasks",
    "//api/v1/tasks",
    "/api/v1/tasks/",
    "/API/V1/TASKS",
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
    const name = fc.string({
      unit: fc.constantFrom(..."abcdefghijklmnopqrstuvwxyz-0123456789_!#$%&'*+.^`|~"),
      minLength: 1,
      maxLength: 20,
    });
    const headers = fc.dictionary(
      fc.oneof(
        name,
        fc.constantFrom(
          "content-type",
          "content-length",
          "accept",
          "accept-encoding",
          "origin",
          "access-control-request-method",
          "x-forwarded-for",
          "cookie",
          "if-none-match",
          "range",
          "expect",
        ),
      ),
      printableHeaderValue(200),
      { maxKeys: 6 },
    );
    await fc.assert(
      fc.asyncProperty(headers, routes, methods, async (extra, path, method) => {
        count("extra headers, any route");
        delete extra["content-length"];
        const response = await request(path, { method, headers: { authorization: bearer, ...extra } });
        await expectSafeAnswer(response, method);
      }),
      runs(400),
    );
  });
});

describe("the Authorization header", () => {
  const base64url = (value: unknown) => Buffer.from(JSON.stringify(value) ?? "null").toString("base64url");

  it("answers any header that is not a valid token with a JSON 401", async () => {
    const forged = fc
      .record({ header: jsonValues, payload: jsonValues, signature: fc.base64String({ maxLength: 90 }) })
      .map(({ header, payload, signature }) => `${base64url(header)}.${base64url(payload)}.${signature}`);
    const header = fc.oneof(
      printableHeaderValue(300),
      printableHeaderValue(300).map((value) => `Bearer ${value}`),
      forged.map((token) => `Bearer ${token}`),
      fc.constantFrom(
        "Bearer",
        "Bearer ",
        "bearer x",
        "Basic dXNlcjpwYXNz",
        "Bearer a.b.c",
        "Bearer ..",
        "Bearer a b",
      ),
    );
    await fc.assert(
      fc.asyncProperty(header, async (authorization) => {
        count("GET /api/v1/tasks");
        const response = await request("/api/v1/tasks", { headers: { authorization } });
        const error = await expectSafeAnswer(response);
        expect(error?.error).toBe("unauthorized");
      }),
      runs(500),
    );
  });

  it("answers a correctly signed token with any claims with 200 or a JSON 401", async () => {
    const claim = fc.oneof(nastyStrings, jsonValues, fc.constant(undefined));
    const time = fc.oneof(fc.integer(), fc.double(), fc.constant(undefined), jsonValues);
    const claims = fc.record({ sub: claim, org_id: claim, exp: time, nbf: time, iat: time });
    await fc.assert(
      fc.asyncProperty(claims, fc.boolean(), async (payload, create) => {
        const token = await sign(
          JSON.parse(JSON.stringify(payload)) as Record<string, unknown>,
          JWT_SECRET,
          "HS256",
        );
        const init: RequestInit = create
          ? { method: "POST", body: '{"title":"from any claims"}' }
          : { method: "GET" };
        count(create ? "POST /api/v1/tasks" : "GET /api/v1/tasks");
        const response = await request("/api/v1/tasks", {
          ...init,
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        });
        await expectSafeAnswer(response, init.method);
      }),
      runs(500),
    );
  });
});

// Each of these was a 500 until the fuzzing above found it; kept as plain examples.
describe("inputs the fuzzing found", () => {
  it.each([
    ["a NUL in the title", { title: "a\u0000b" }],
    ["a lone surrogate in the title", { title: "a\ud800b" }],
    ["a NUL in the description", { title: "t", description: "\u0000" }],
  ])("answers %s with 400 naming the field", async (_kind, body) => {
    const { error } = await postTask(JSON.stringify(body));
    expect(error).toMatchObject({ error: "validation_failed" });
  });

  it.each([
    ["a NUL in org_id", { org_id: "org\u0000" }],
    ["a NUL in sub", { sub: "\u0000" }],
    ["a lone surrogate in org_id", { org_id: "\udfff" }],
  ])("answers a token with %s with 401", async (_kind, claims) => {
    const response = await request("/api/v1/tasks", {
      headers: { authorization: `Bearer ${await tokenFor(claims)}` },
    });
    expect((await expectSafeAnswer(response))?.error).toBe("unauthorized");
  });

  it.each(["0000-00-00T00:00:00.000000Z", "2025-02-30T00:00:00.000000Z", "2025-01-01T24:00:00.000000Z"])(
    "answers a cursor at the impossible time %s with 400",
    async (time) => {
      const cursor = Buffer.from(JSON.stringify([time, crypto.randomUUID()])).toString("base64url");
      const response = await request(`/api/v1/tasks?cursor=${cursor}`, {
        headers: { authorization: bearer },
      });
      expect(await expectSafeAnswer(response)).toMatchObject({ error: "validation_failed" });
    },
  );
});

describe("after the fuzzing", () => {
  it("the app still answers /healthz", async () => {
    expect((await request("/healthz")).status).toBe(200);
  });

  it("wrote only whole JSON log lines", () => {
    expect(gateway.logs.raw.length).toBeGreaterThan(1000);
    expect(gateway.logs.lines).toHaveLength(gateway.logs.raw.length);
  });
});

function pad(value: number, width = 2): string {
  return String(value).padStart(width, "0");
}
