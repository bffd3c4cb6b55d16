/**
 * What callers get when they are not allowed in, ask for what is not theirs or send nonsense: the
 * built pair answers a clear 4xx, always JSON with a stable code, a message and the correlation ID.
 */
import { waitFor } from "@ward/shared/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startPair, type Pair } from "../support/pair.js";

interface ErrorBody {
  error: string;
  message: string;
  correlation_id: string;
  details?: { path: string; message: string }[];
}

let pair: Pair;

beforeAll(async () => {
  pair = await startPair();
});

afterAll(async () => {
  if (pair) expect(await pair.stop()).toEqual({ gateway: 0, worker: 0 });
});

/** Checks the shape every error response shares, and returns its body. */
async function errorOf(response: Response, status: number): Promise<ErrorBody> {
  expect(response.status).toBe(status);
  expect(response.headers.get("content-type")).toMatch(/^application\/json/);
  const body = (await response.json()) as ErrorBody;
  expect(body).toEqual(
    expect.objectContaining({
      error: expect.stringMatching(/^[a-z_]+$/) as unknown,
      message: expect.any(String) as unknown,
      correlation_id: expect.any(String) as unknown,
    }),
  );
  expect(body.message).not.toBe("");
  expect(response.headers.get("x-correlation-id")).toBe(body.correlation_id);
  return body;
}

const hourAgo = () => Math.floor(Date.now() / 1000) - 3600;

describe("the gateway without a valid JWT", () => {
  const cases: [string, (pair: Pair) => Promise<string | null> | string | null][] = [
    ["missing", () => null],
    ["not a JWT", () => "not-a-jwt"],
    ["signed with another key", (pair) => pair.token({}, "another-key-of-at-least-32-characters!!")],
    ["expired", (pair) => pair.token({ exp: hourAgo() })],
    ["without an org_id", (pair) => pair.token({ org_id: "" })],
  ];

  it.each(cases)("answers 401 when the token is %s", async (_, tokenOf) => {
    const response = await pair.api("/api/v1/tasks", {
      token: await tokenOf(pair),
      correlationId: "jwt-401",
    });
    const body = await errorOf(response, 401);
    expect(body).toMatchObject({ error: "unauthorized", correlation_id: "jwt-401" });
    expect(response.headers.get("www-authenticate")).toMatch(/^Bearer /);
  });

  it("answers 401 when the Authorization header is not Bearer", async () => {
    const response = await fetch(`${pair.gateway.url}/api/v1/tasks`, {
      headers: { authorization: `Basic ${Buffer.from("user-1:secret").toString("base64")}` },
    });
    expect((await errorOf(response, 401)).error).toBe("unauthorized");
  });

  it("says an expired token has expired", async () => {
    const response = await pair.api("/api/v1/tasks", { token: await pair.token({ exp: hourAgo() }) });
    expect((await errorOf(response, 401)).message).toMatch(/expired/i);
  });

  it("creates nothing", async () => {
    const response = await pair.api("/api/v1/tasks", {
      method: "POST",
      json: { title: "Sneak in" },
      token: await pair.token({}, "another-key-of-at-least-32-characters!!"),
    });
    await errorOf(response, 401);
    const [row] = await pair.sql<{ count: string }[]>`select count(*) from tasks where title = 'Sneak in'`;
    expect(row?.count).toBe("0");
  });
});

describe("another organisation's task", () => {
  let taskId: string;
  let outsider: string;

  beforeAll(async () => {
    const created = await pair.api("/api/v1/tasks", { method: "POST", json: { title: "Org 1 only" } });
    taskId = ((await created.json()) as { id: string }).id;
    outsider = await pair.token({ sub: "user-9", org_id: "org-2" });
  });

  it("is 404 to read", async () => {
    const body = await errorOf(await pair.api(`/api/v1/tasks/${taskId}`, { token: outsider }), 404);
    expect(body.error).toBe("not_found");
  });

  it("is 404 to complete, and stays open", async () => {
    const response = await pair.api(`/api/v1/tasks/${taskId}/complete`, { method: "POST", token: outsider });
    expect((await errorOf(response, 404)).error).toBe("not_found");
    const own = await pair.api(`/api/v1/tasks/${taskId}`);
    expect(((await own.json()) as { status: string }).status).toBe("open");
  });

  it("is missing from its list", async () => {
    const response = await pair.api("/api/v1/tasks", { token: outsider });
    expect(response.status).toBe(200);
    const { items } = (await response.json()) as { items: { id: string }[] };
    expect(items.map((item) => item.id)).not.toContain(taskId);
  });
});

describe("a bad request to the gateway", () => {
  const bodies: [string, unknown, string][] = [
    ["no title", { description: "What?" }, "title"],
    ["a blank title", { title: "   " }, "title"],
    ["a title of 201 characters", { title: "x".repeat(201) }, "title"],
    ["a description that is not text", { title: "Fine", description: 42 }, "description"],
  ];

  it.each(bodies)("is 400 with a field error for %s", async (_, json, field) => {
    const body = await errorOf(await pair.api("/api/v1/tasks", { method: "POST", json }), 400);
    expect(body.error).toBe("validation_failed");
    expect(body.details).toEqual(
      expect.arrayContaining([{ path: field, message: expect.any(String) as unknown }]),
    );
  });

  it("is 400, saying so, for a body that is not JSON", async () => {
    const response = await pair.api("/api/v1/tasks", {
      method: "POST",
      body: "{ title: oops",
      headers: { "content-type": "application/json" },
    });
    // hono's JSON validator answers before the shared handler's invalid_json: either code is clear.
    const body = await errorOf(response, 400);
    expect(body.error).toMatch(/^(invalid_json|bad_request)$/);
    expect(body.message).toMatch(/JSON/);
  });

  it("is 400 with a field error for a task id that is not a UUID", async () => {
    const body = await errorOf(await pair.api("/api/v1/tasks/42"), 400);
    expect(body.details).toEqual([{ path: "id", message: expect.any(String) as unknown }]);
  });

  it("is 400 with a field error for a page size out of range", async () => {
    const body = await errorOf(await pair.api("/api/v1/tasks?limit=1000"), 400);
    expect(body.details).toEqual([{ path: "limit", message: expect.any(String) as unknown }]);
  });

  it("is 404 JSON for a route that does not exist", async () => {
    expect((await errorOf(await pair.api("/api/v1/nothing-here"), 404)).error).toBe("not_found");
  });

  it("never reaches the worker", () => {
    const notified = pair.worker.lines().filter((line) => line.event === "notification_accepted");
    const created = pair.gateway.lines().filter((line) => line.event === "task_created");
    expect(notified.length).toBe(created.length);
  });
});

describe("an unsafe X-Correlation-ID", () => {
  it("is replaced by a fresh UUID, never echoed or logged", async () => {
    const unsafe = "evil id <script>";
    const response = await pair.api("/api/v1/tasks", { token: null, correlationId: unsafe });
    const body = await errorOf(response, 401);
    expect(body.correlation_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    // Lines leave at the end of their event-loop turn: possibly just after the response.
    const replaced = await waitFor(
      () => pair.linesOf(body.correlation_id).find((line) => line.event === "correlation_id_replaced"),
      { what: "correlation_id_replaced" },
    );
    expect(replaced).toMatchObject({ reason: "malformed", length: unsafe.length });
    expect(pair.output()).not.toContain("<script>");
  });
});

describe("the worker called directly", () => {
  const notification = {
    event: "task.created",
    org_id: "org-1",
    task: { id: crypto.randomUUID(), title: "Forged", status: "open" },
  };

  async function callWorker(authorization?: string) {
    return fetch(`${pair.worker.url}/v1/notifications`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "idempotency-key": `forged:${notification.task.id}`,
        "x-correlation-id": "forged-1",
        ...(authorization && { authorization }),
      },
      body: JSON.stringify(notification),
    });
  }

  it("answers 401 without a token", async () => {
    const body = await errorOf(await callWorker(), 401);
    expect(body).toMatchObject({ error: "unauthorized", correlation_id: "forged-1" });
  });

  it("answers 401 with a wrong token", async () => {
    expect((await errorOf(await callWorker("Bearer not-the-worker-token-000000000000"), 401)).error).toBe(
      "unauthorized",
    );
  });

  it("answers 401 to a user's JWT", async () => {
    expect((await errorOf(await callWorker(`Bearer ${await pair.token()}`), 401)).error).toBe("unauthorized");
  });

  it("answers 401 to a status request with a wrong token", async () => {
    const response = await fetch(`${pair.worker.url}/v1/notifications/${crypto.randomUUID()}`, {
      headers: { authorization: "Bearer not-the-worker-token-000000000000" },
    });
    await errorOf(response, 401);
  });

  it("stores and delivers nothing it refused", async () => {
    const [row] = await pair.sql<{ count: string }[]>`
      select count(*) from notifications where payload -> 'task' ->> 'id' = ${notification.task.id}`;
    expect(row?.count).toBe("0");
    expect(pair.receiver.callsForTask(notification.task.id)).toEqual([]);
  });
});

describe("secrets", () => {
  it("are not echoed or logged when a caller sends one as a token", async () => {
    const response = await pair.api("/api/v1/tasks", { token: pair.secrets.WORKER_TOKEN });
    const body = await errorOf(response, 401);
    expect(JSON.stringify(body)).not.toContain(pair.secrets.WORKER_TOKEN);
  });

  it("show nowhere in any process's output after all these errors", () => {
    expect(pair.leakedSecrets()).toEqual([]);
  });
});
