import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createBacking, startGateway, type Backing, type Gateway } from "../../test/harness.js";
import type { Task, TaskPage } from "./schemas.js";

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

/** A caller in an organisation of its own, so tests never see each other's tasks. */
const newOrg = () => ({ sub: `user-${randomUUID()}`, org_id: `org-${randomUUID()}` });

describe("POST /api/v1/tasks", () => {
  it("creates an open task in the caller's organisation and answers 201 with it", async () => {
    const caller = newOrg();
    const response = await gateway.call("/api/v1/tasks", {
      method: "POST",
      as: caller,
      json: { title: "Renew the certificate", description: "It expires on the 14th" },
    });
    expect(response.status).toBe(201);
    const task = (await response.json()) as Task;
    expect(task).toMatchObject({
      org_id: caller.org_id,
      created_by: caller.sub,
      title: "Renew the certificate",
      description: "It expires on the 14th",
      status: "open",
      completed_at: null,
    });
    expect(task.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(Number.isNaN(Date.parse(task.created_at))).toBe(false);
  });

  it("stores the request's correlation ID with the task", async () => {
    const task = await gateway.createTask("Traced", newOrg(), { "x-correlation-id": "abc-123" });
    const [row] = await backing.sql<
      { correlation_id: string }[]
    >`select correlation_id from tasks where id = ${task.id}`;
    expect(row?.correlation_id).toBe("abc-123");
  });

  it("drops white space around the title", async () => {
    const task = await gateway.createTask("  Padded  ", newOrg());
    expect(task.title).toBe("Padded");
  });

  it("logs task_created with the task, user and organisation", async () => {
    const caller = newOrg();
    const task = await gateway.createTask("Logged", caller);
    expect(
      gateway.logs.find((line) => line.event === "task_created" && line.task_id === task.id),
    ).toMatchObject({
      user_id: caller.sub,
      org_id: caller.org_id,
    });
  });

  it.each([
    ["a missing title", {}, "title"],
    ["an empty title", { title: "" }, "title"],
    ["a blank title", { title: "   " }, "title"],
    ["a title of 201 characters", { title: "x".repeat(201) }, "title"],
    ["a title that is not a string", { title: 42 }, "title"],
    ["a description of 2001 characters", { title: "ok", description: "x".repeat(2001) }, "description"],
    ["a title with a NUL character", { title: "a\u0000b" }, "title"],
    ["a title with an unpaired surrogate", { title: "a\ud800b" }, "title"],
    ["a description with a NUL character", { title: "ok", description: "\u0000" }, "description"],
  ])("answers 400 with a field error for %s", async (_case, body, field) => {
    const response = await gateway.call("/api/v1/tasks", { method: "POST", json: body });
    expect(response.status).toBe(400);
    const error = (await response.json()) as { error: string; details: { path: string }[] };
    expect(error).toMatchObject({ error: "validation_failed", correlation_id: expect.any(String) as string });
    expect(error.details.map((detail) => detail.path)).toEqual([field]);
  });

  it("accepts a title of exactly 200 characters", async () => {
    const task = await gateway.createTask("x".repeat(200), newOrg());
    expect(task.title).toHaveLength(200);
  });

  it("answers 400 naming every offending field at once", async () => {
    const response = await gateway.call("/api/v1/tasks", {
      method: "POST",
      json: { title: "", description: "x".repeat(2001) },
    });
    const error = (await response.json()) as { details: { path: string }[] };
    expect(error.details.map((detail) => detail.path).sort()).toEqual(["description", "title"]);
  });

  it("answers 400 JSON to a body that is not JSON", async () => {
    const response = await gateway.call("/api/v1/tasks", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{not json",
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: "bad_request" });
  });

  it("answers 415 JSON to a body sent without a JSON content type", async () => {
    const response = await gateway.call("/api/v1/tasks", {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: JSON.stringify({ title: "x" }),
    });
    expect(response.status).toBe(415);
    expect(await response.json()).toMatchObject({ error: "unsupported_media_type" });
  });
});

describe("GET /api/v1/tasks", () => {
  const list = async (caller: { sub: string; org_id: string }, query = "") => {
    const response = await gateway.call(`/api/v1/tasks${query}`, { as: caller });
    expect(response.status).toBe(200);
    return (await response.json()) as TaskPage;
  };

  it("lists the caller's tasks newest first", async () => {
    const caller = newOrg();
    for (const title of ["first", "second", "third"]) await gateway.createTask(title, caller);
    const page = await list(caller);
    expect(page.items.map((task) => task.title)).toEqual(["third", "second", "first"]);
    expect(page.next_cursor).toBeNull();
  });

  it("pages through every task exactly once, following next_cursor", async () => {
    const caller = newOrg();
    const created: string[] = [];
    for (let i = 0; i < 7; i++) created.push((await gateway.createTask(`task ${i}`, caller)).id);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: TaskPage = await list(caller, `?limit=3${cursor ? `&cursor=${cursor}` : ""}`);
      expect(page.items.length).toBeLessThanOrEqual(3);
      seen.push(...page.items.map((task) => task.id));
      cursor = page.next_cursor;
      pages++;
    } while (cursor !== null);
    expect(pages).toBe(3);
    expect(seen).toEqual([...created].reverse());
  });

  it("keeps paging right among tasks created in the same transaction instant", async () => {
    const caller = newOrg();
    // One statement: every row gets the same now(), so only the id breaks the ties.
    await backing.sql`
      insert into tasks (org_id, created_by, title, correlation_id)
      select ${caller.org_id}, ${caller.sub}, 'tie ' || n, 'test' from generate_series(1, 5) n`;
    const first = await list(caller, "?limit=2");
    const second = await list(caller, `?limit=2&cursor=${first.next_cursor}`);
    const third = await list(caller, `?limit=2&cursor=${second.next_cursor}`);
    const ids = [...first.items, ...second.items, ...third.items].map((task) => task.id);
    expect(new Set(ids).size).toBe(5);
    expect(third.next_cursor).toBeNull();
  });

  it("answers a default page of 20", async () => {
    const caller = newOrg();
    for (let i = 0; i < 21; i++) await gateway.createTask(`task ${i}`, caller);
    const page = await list(caller);
    expect(page.items).toHaveLength(20);
    expect(page.next_cursor).not.toBeNull();
  });

  it("never lists another organisation's tasks", async () => {
    const mine = newOrg();
    const theirs = newOrg();
    await gateway.createTask("mine", mine);
    await gateway.createTask("theirs", theirs);
    expect((await list(mine)).items.map((task) => task.title)).toEqual(["mine"]);
  });

  it.each(["0", "101", "abc", "1.5", ""])("answers 400 naming limit for limit=%s", async (limit) => {
    const response = await gateway.call(`/api/v1/tasks?limit=${limit}`);
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ details: [{ path: "limit" }] });
  });

  const cursorOf = (position: unknown) => Buffer.from(JSON.stringify(position)).toString("base64url");
  it.each([
    "nonsense",
    cursorOf(["yesterday", "x"]),
    cursorOf(["2025-02-31T00:00:00.000000Z", "3f0c2f4e-8f7a-4c1e-9d55-2a4b8c7e1f20"]),
    cursorOf(["0000-01-01T00:00:00.000000Z", "3f0c2f4e-8f7a-4c1e-9d55-2a4b8c7e1f20"]),
    "x".repeat(300),
  ])("answers 400 naming cursor for a cursor it did not hand out (%#)", async (cursor) => {
    const response = await gateway.call(`/api/v1/tasks?cursor=${cursor}`);
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      error: "validation_failed",
      details: [{ path: "cursor" }],
    });
  });
});

describe("GET /api/v1/tasks/:id", () => {
  it("answers the task", async () => {
    const caller = newOrg();
    const task = await gateway.createTask("Read me", caller);
    const response = await gateway.call(`/api/v1/tasks/${task.id}`, { as: caller });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual(task);
  });

  it("answers 404 for another organisation's task", async () => {
    const task = await gateway.createTask("Private", newOrg());
    const response = await gateway.call(`/api/v1/tasks/${task.id}`, { as: newOrg() });
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ error: "not_found" });
  });

  it("answers 404 for an unknown id", async () => {
    const response = await gateway.call(`/api/v1/tasks/${randomUUID()}`);
    expect(response.status).toBe(404);
  });

  it("answers 400 naming id when the id is not a UUID", async () => {
    const response = await gateway.call("/api/v1/tasks/42");
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ details: [{ path: "id" }] });
  });
});

describe("POST /api/v1/tasks/:id/complete", () => {
  const complete = (id: string, as: { sub: string; org_id: string }) =>
    gateway.call(`/api/v1/tasks/${id}/complete`, { method: "POST", as });

  it("completes the task and answers 200 with it", async () => {
    const caller = newOrg();
    const task = await gateway.createTask("Finish me", caller);
    const response = await complete(task.id, caller);
    expect(response.status).toBe(200);
    const completed = (await response.json()) as Task;
    expect(completed).toMatchObject({ id: task.id, status: "completed" });
    expect(Date.parse(completed.completed_at ?? "")).toBeGreaterThanOrEqual(Date.parse(task.created_at));
  });

  it("answers 200 with the task unchanged when it was completed already", async () => {
    const caller = newOrg();
    const task = await gateway.createTask("Twice", caller);
    const first = (await (await complete(task.id, caller)).json()) as Task;
    const again = await complete(task.id, caller);
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual(first);
  });

  it("asks for one task.completed notification however often it is completed", async () => {
    const caller = newOrg();
    const task = await gateway.createTask("Once", caller);
    await Promise.all([complete(task.id, caller), complete(task.id, caller), complete(task.id, caller)]);
    const rows =
      await backing.sql`select 1 from outbox where idempotency_key = ${`${task.id}:task.completed`}`;
    expect(rows).toHaveLength(1);
  });

  it("answers 404 for another organisation's task and leaves it open", async () => {
    const owner = newOrg();
    const task = await gateway.createTask("Not yours", owner);
    expect((await complete(task.id, newOrg())).status).toBe(404);
    const response = await gateway.call(`/api/v1/tasks/${task.id}`, { as: owner });
    expect(await response.json()).toMatchObject({ status: "open" });
  });

  it("answers 404 for an unknown id", async () => {
    expect((await complete(randomUUID(), newOrg())).status).toBe(404);
  });
});
