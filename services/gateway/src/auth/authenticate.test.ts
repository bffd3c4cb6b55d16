import { sign } from "hono/jwt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createBacking,
  JWT_SECRET,
  startGateway,
  tokenFor,
  type Backing,
  type Gateway,
} from "../../test/harness.js";

let backing: Backing;
let gateway: Gateway;

beforeAll(async () => {
  backing = await createBacking();
  gateway = startGateway(backing);
});

afterAll(async () => {
  await gateway?.close();
  await backing?.close();
});

const now = () => Math.floor(Date.now() / 1000);
const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

/** GET /api/v1/tasks with the given Authorization header (none when undefined). */
const listWith = (authorization: string | undefined) =>
  gateway.app.request("/api/v1/tasks", {
    headers: { ...(authorization === undefined ? {} : { authorization }), "x-correlation-id": "auth-test" },
  });

describe("authentication", () => {
  it("lets a valid HS256 token with sub and org_id through", async () => {
    expect((await listWith(`Bearer ${await tokenFor()}`)).status).toBe(200);
  });

  it("binds user_id and org_id into every later log line of the request", async () => {
    await listWith(`Bearer ${await tokenFor({ sub: "user-42", org_id: "org-42" })}`);
    const completed = gateway.logs.find(
      (line) => line.event === "request_completed" && line.user_id === "user-42",
    );
    expect(completed).toMatchObject({ org_id: "org-42", correlation_id: "auth-test" });
  });

  const rejected: [string, () => Promise<string | undefined>][] = [
    ["no Authorization header", () => Promise.resolve(undefined)],
    ["a scheme other than Bearer", async () => `Basic ${await tokenFor()}`],
    ["Bearer without a token", () => Promise.resolve("Bearer ")],
    ["a token that is not a JWT", () => Promise.resolve("Bearer not-a-jwt")],
    [
      "a token signed with another key",
      async () => `Bearer ${await tokenFor({}, "another-secret-0123456789abcdefghijklmnop")}`,
    ],
    [
      "an expired token",
      async () => `Bearer ${await sign({ sub: "u", org_id: "o", exp: now() - 10 }, JWT_SECRET, "HS256")}`,
    ],
    [
      "a token that is not valid yet",
      async () => `Bearer ${await sign({ sub: "u", org_id: "o", nbf: now() + 600 }, JWT_SECRET, "HS256")}`,
    ],
    [
      "an unsigned token (alg none)",
      () =>
        Promise.resolve(
          `Bearer ${base64url({ alg: "none", typ: "JWT" })}.${base64url({ sub: "u", org_id: "o" })}.`,
        ),
    ],
    [
      "a token signed HS512 with the right key",
      async () => `Bearer ${await sign({ sub: "u", org_id: "o" }, JWT_SECRET, "HS512")}`,
    ],
    ["a token without sub", async () => `Bearer ${await sign({ org_id: "o" }, JWT_SECRET, "HS256")}`],
    ["a token without org_id", async () => `Bearer ${await sign({ sub: "u" }, JWT_SECRET, "HS256")}`],
    ["a token with an empty org_id", async () => `Bearer ${await tokenFor({ org_id: "" })}`],
    [
      "a token whose org_id holds a NUL character",
      async () => `Bearer ${await tokenFor({ org_id: "o\u0000" })}`,
    ],
    [
      "a token whose org_id is not a string",
      async () => `Bearer ${await sign({ sub: "u", org_id: 7 }, JWT_SECRET, "HS256")}`,
    ],
  ];

  it.each(rejected)("answers 401 JSON to %s", async (_case, authorization) => {
    const response = await listWith(await authorization());
    expect(response.status).toBe(401);
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await response.json()).toEqual({
      error: "unauthorized",
      message: expect.any(String) as string,
      correlation_id: "auth-test",
    });
  });

  it.each(rejected)("challenges %s with WWW-Authenticate: Bearer", async (_case, authorization) => {
    const response = await listWith(await authorization());
    expect(response.headers.get("www-authenticate")).toMatch(/^Bearer realm="ward"/);
  });

  it("says when the token has expired", async () => {
    const expired = await sign({ sub: "u", org_id: "o", exp: now() - 10 }, JWT_SECRET, "HS256");
    const body = (await (await listWith(`Bearer ${expired}`)).json()) as { message: string };
    expect(body.message).toMatch(/expired/);
  });

  it("logs why a token was refused, never the token", async () => {
    const forged = await tokenFor({ sub: "forger" }, "another-secret-0123456789abcdefghijklmnop");
    await gateway.app.request("/api/v1/tasks", {
      headers: { authorization: `Bearer ${forged}`, "x-correlation-id": "forged-token" },
    });
    const line = gateway.logs.find(
      (entry) => entry.event === "authentication_failed" && entry.correlation_id === "forged-token",
    );
    expect(line?.reason).toBe("JwtTokenSignatureMismatched");
    expect(gateway.logs.text()).not.toContain(forged.split(".")[2]);
  });

  it("leaves /healthz open", async () => {
    expect((await gateway.app.request("/healthz")).status).toBe(200);
  });
});
