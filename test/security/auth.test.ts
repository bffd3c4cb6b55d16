// Authentication against the real built services. Gateway: HS256 JWTs only, signed with
// JWT_SECRET, unexpired, already valid, carrying sub and org_id: anything else is 401; another
// organisation's task is 404 (tasks are scoped to the caller's org, so its existence is not
// revealed). Worker: only `Bearer <WORKER_TOKEN>`, compared in constant time: anything else is 401.
import fc from "fast-check";
import { sign } from "hono/jwt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startPair, type Pair } from "../support/pair.js";
import { count, expectSafeAnswer, printableHeaderValue, runs, tallyReport } from "./support/fuzz.js";

let pair: Pair;
let task: { id: string };

const now = () => Math.floor(Date.now() / 1000);
const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

beforeAll(async () => {
  pair = await startPair();
  const created = await pair.api("/api/v1/tasks", { method: "POST", json: { title: "org-1's task" } });
  task = (await created.json()) as { id: string };
});

afterAll(async () => {
  console.log(tallyReport("authentication"));
  if (pair) expect(await pair.stop()).toEqual({ gateway: 0, worker: 0 });
});

/** GET /api/v1/tasks/:id of org-1's task with the given Authorization header. */
async function readTask(authorization: string | null) {
  count("gateway GET /api/v1/tasks/:id");
  const response = await fetch(`${pair.gateway.url}/api/v1/tasks/${task.id}`, {
    headers: authorization === null ? {} : { authorization },
  });
  return { status: response.status, error: await expectSafeAnswer(response) };
}

describe("the gateway", () => {
  const claims = () => ({ sub: "user-1", org_id: "org-1", exp: now() + 600 });
  const secret = () => pair.secrets.JWT_SECRET;

  it("lets a valid token of the task's organisation read it", async () => {
    expect((await readTask(`Bearer ${await pair.token()}`)).status).toBe(200);
  });

  const refused: [string, () => Promise<string> | string][] = [
    ["no token", () => ""],
    ["alg none", () => `${base64url({ alg: "none", typ: "JWT" })}.${base64url(claims())}.`],
    ["alg None", () => `${base64url({ alg: "None", typ: "JWT" })}.${base64url(claims())}.`],
    [
      "alg none with the real signature kept",
      async () => {
        const [, payload, signature] = (await sign(claims(), secret(), "HS256")).split(".");
        return `${base64url({ alg: "none", typ: "JWT" })}.${payload}.${signature}`;
      },
    ],
    ["HS512 under the right key", () => sign(claims(), secret(), "HS512")],
    ["HS384 under the right key", () => sign(claims(), secret(), "HS384")],
    [
      "a header claiming RS256 over an HS256 signature",
      async () => {
        const [, payload, signature] = (await sign(claims(), secret(), "HS256")).split(".");
        return `${base64url({ alg: "RS256", typ: "JWT" })}.${payload}.${signature}`;
      },
    ],
    ["a wrong key", () => sign(claims(), "change-me-not-the-gateway-key-0123456789abcdef", "HS256")],
    ["the worker token as the key", () => sign(claims(), pair.secrets.WORKER_TOKEN, "HS256")],
    ["an expired token", () => sign({ ...claims(), exp: now() - 60 }, secret(), "HS256")],
    ["a token not valid yet (nbf)", () => sign({ ...claims(), nbf: now() + 600 }, secret(), "HS256")],
    ["a token without sub", () => sign({ org_id: "org-1", exp: now() + 600 }, secret(), "HS256")],
    ["a token without org_id", () => sign({ sub: "user-1", exp: now() + 600 }, secret(), "HS256")],
    ["a token with an empty org_id", () => sign({ ...claims(), org_id: " " }, secret(), "HS256")],
    ["a token with a numeric org_id", () => sign({ ...claims(), org_id: 1 }, secret(), "HS256")],
    [
      "a payload changed after signing",
      async () => {
        const [header, , signature] = (await pair.token({ org_id: "org-2" })).split(".");
        return `${header}.${base64url(claims())}.${signature}`;
      },
    ],
    [
      "a token without its signature",
      async () => (await pair.token()).split(".").slice(0, 2).join(".") + ".",
    ],
  ];

  it.each(refused)("answers 401 to %s", async (_kind, token) => {
    const { status, error } = await readTask(`Bearer ${await token()}`.trimEnd());
    expect(status).toBe(401);
    expect(error?.error).toBe("unauthorized");
  });

  it("answers 401 to a valid token sent in the query string instead of the header", async () => {
    count("gateway GET /api/v1/tasks/:id");
    const response = await fetch(
      `${pair.gateway.url}/api/v1/tasks/${task.id}?access_token=${await pair.token()}`,
    );
    expect(response.status).toBe(401);
  });

  it("answers 401 to a valid token under another scheme", async () => {
    expect((await readTask(`Token ${await pair.token()}`)).status).toBe(401);
  });

  it("answers 404 to a valid token of another organisation, for reading and completing", async () => {
    const other = `Bearer ${await pair.token({ org_id: "org-2" })}`;
    const read = await readTask(other);
    expect(read).toMatchObject({ status: 404, error: { error: "not_found" } });
    count("gateway POST /api/v1/tasks/:id/complete");
    const complete = await fetch(`${pair.gateway.url}/api/v1/tasks/${task.id}/complete`, {
      method: "POST",
      headers: { authorization: other },
    });
    expect(complete.status).toBe(404);
    expect((await readTask(`Bearer ${await pair.token()}`)).status).toBe(200);
  });

  it("answers another organisation's task exactly as a task that does not exist", async () => {
    const other = `Bearer ${await pair.token({ org_id: "org-2" })}`;
    const theirs = await fetch(`${pair.gateway.url}/api/v1/tasks/${task.id}`, {
      headers: { authorization: other },
    });
    const none = await fetch(`${pair.gateway.url}/api/v1/tasks/${crypto.randomUUID()}`, {
      headers: { authorization: other },
    });
    const strip = (body: unknown) => ({ ...(body as object), correlation_id: "" });
    expect(theirs.status).toBe(none.status);
    expect(strip(await theirs.json())).toEqual(strip(await none.json()));
  });

  it("answers 401 to any single character changed in a valid token", async () => {
    const token = await pair.token();
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.";
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: token.length - 1 }), fc.constantFrom(...alphabet), async (at, char) => {
        // The signature's last character carries spare bits: some changes decode to the same bytes.
        fc.pre(token[at] !== char && at !== token.length - 1);
        const changed = token.slice(0, at) + char + token.slice(at + 1);
        expect((await readTask(`Bearer ${changed}`)).status).toBe(401);
      }),
      runs(300),
    );
  });
});

describe("the worker", () => {
  const body = () =>
    JSON.stringify({
      event: "task.created",
      org_id: "org-1",
      task: { id: crypto.randomUUID(), title: "t", status: "open" },
    });

  async function notify(authorization: string | null) {
    count("worker POST /v1/notifications");
    const response = await fetch(`${pair.worker.url}/v1/notifications`, {
      method: "POST",
      headers: {
        ...(authorization === null ? {} : { authorization }),
        "content-type": "application/json",
        "idempotency-key": `auth:${crypto.randomUUID()}`,
      },
      body: body(),
    });
    return { status: response.status, error: await expectSafeAnswer(response, "POST") };
  }

  it("accepts its own token", async () => {
    expect((await notify(`Bearer ${pair.secrets.WORKER_TOKEN}`)).status).toBe(202);
  });

  it("answers 401 without a token", async () => {
    expect(await notify(null)).toMatchObject({ status: 401, error: { error: "unauthorized" } });
  });

  it("answers 401 to the gateway's user JWT", async () => {
    expect((await notify(`Bearer ${await pair.token()}`)).status).toBe(401);
  });

  it("answers 401 to GET /v1/notifications/:id without its token", async () => {
    count("worker GET /v1/notifications/:id");
    const response = await fetch(`${pair.worker.url}/v1/notifications/${crypto.randomUUID()}`);
    expect((await expectSafeAnswer(response))?.error).toBe("unauthorized");
  });

  it("answers 401, never a 500, to tokens of every length: the compare is over equal-length digests", async () => {
    const token = pair.secrets.WORKER_TOKEN;
    const lengths = [0, 1, 31, 32, token.length - 1, token.length + 1, 64, 1000, 8000];
    const wrong = lengths.map((n) => (token + "x".repeat(n)).slice(0, n).replace(/.$/, "!"));
    for (const candidate of [...wrong, token.slice(0, -1), `${token}x`, token.toUpperCase()]) {
      expect((await notify(`Bearer ${candidate}`.trimEnd())).status, `length ${candidate.length}`).toBe(401);
    }
  });

  it("answers 401 to any other Authorization header", async () => {
    const token = pair.secrets.WORKER_TOKEN;
    const header = fc.oneof(
      printableHeaderValue(120),
      printableHeaderValue(120).map((value) => `Bearer ${value}`),
      fc.nat({ max: token.length }).map((n) => `Bearer ${token.slice(0, n)}`),
      fc.constantFrom(`Basic ${token}`, `Token ${token}`, `Bearer ${token} ${token}`, `Bearer\t${token}`),
    );
    await fc.assert(
      fc.asyncProperty(header, async (authorization) => {
        fc.pre(!new RegExp(`^bearer +${token} *$`, "i").test(authorization));
        expect((await notify(authorization)).status).toBe(401);
      }),
      runs(300),
    );
  });
});
