import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { privateRedis, type PrivateRedis } from "@ward/shared/testing";
import { createBacking, startGateway, type Backing, type Gateway } from "../../test/harness.js";

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

const newOrg = () => ({ sub: "user-1", org_id: `org-${randomUUID()}` });

/** The cache events logged for one task, in order. */
const cacheEvents = (logs: Gateway["logs"], taskId: string) =>
  logs.lines
    .filter((line) => line.task_id === taskId && String(line.event).startsWith("cache_"))
    .map((line) => line.event);

describe("the task cache", () => {
  it("reads PostgreSQL on the first GET (cache_miss) and Redis on the next (cache_hit)", async () => {
    const caller = newOrg();
    const task = await gateway.createTask("Cached", caller);
    await gateway.call(`/api/v1/tasks/${task.id}`, { as: caller });
    const second = await gateway.call(`/api/v1/tasks/${task.id}`, { as: caller });
    expect(await second.json()).toEqual(task);
    expect(cacheEvents(gateway.logs, task.id)).toEqual(["cache_miss", "cache_hit"]);
  });

  it("logs cache hits and misses at debug level", async () => {
    const caller = newOrg();
    const task = await gateway.createTask("Levels", caller);
    await gateway.call(`/api/v1/tasks/${task.id}`, { as: caller });
    await gateway.call(`/api/v1/tasks/${task.id}`, { as: caller });
    const levels = gateway.logs.lines
      .filter((line) => line.task_id === task.id && String(line.event).startsWith("cache_"))
      .map((line) => line.level);
    expect(levels).toEqual(["debug", "debug"]);
  });

  it("serves a change made outside the API only once the entry expires: it is Redis that answers", async () => {
    const caller = newOrg();
    const task = await gateway.createTask("Original", caller);
    await gateway.call(`/api/v1/tasks/${task.id}`, { as: caller });
    await backing.sql`update tasks set title = 'Changed behind its back' where id = ${task.id}`;
    const cached = await gateway.call(`/api/v1/tasks/${task.id}`, { as: caller });
    expect(await cached.json()).toMatchObject({ title: "Original" });
    expect(await gateway.redis.ttl(`task:${encodeURIComponent(caller.org_id)}:${task.id}`)).toBeGreaterThan(
      0,
    );
  });

  it("forgets a task when it is completed, so the next GET shows it completed", async () => {
    const caller = newOrg();
    const task = await gateway.createTask("Then completed", caller);
    await gateway.call(`/api/v1/tasks/${task.id}`, { as: caller });
    await gateway.call(`/api/v1/tasks/${task.id}/complete`, { method: "POST", as: caller });
    const after = await gateway.call(`/api/v1/tasks/${task.id}`, { as: caller });
    expect(await after.json()).toMatchObject({ status: "completed" });
    expect(cacheEvents(gateway.logs, task.id)).toEqual(["cache_miss", "cache_miss"]);
  });

  it("never serves a cached task to another organisation", async () => {
    const owner = newOrg();
    const task = await gateway.createTask("Cached for its owner", owner);
    await gateway.call(`/api/v1/tasks/${task.id}`, { as: owner });
    expect((await gateway.call(`/api/v1/tasks/${task.id}`, { as: newOrg() })).status).toBe(404);
  });
});

describe("when Redis is down", () => {
  let redis: PrivateRedis;
  let outage: Gateway;

  beforeAll(async () => {
    redis = await privateRedis();
    await redis.start();
    outage = startGateway(backing, { redisUrl: redis.url });
    await outage.redis.ping();
    await redis.stop();
  });

  afterAll(async () => {
    await outage?.close();
    await redis?.stop();
  });

  it("still answers GET /tasks/:id from PostgreSQL", async () => {
    const caller = newOrg();
    const task = await outage.createTask("Read without Redis", caller);
    const response = await outage.call(`/api/v1/tasks/${task.id}`, { as: caller });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual(task);
  });

  it("logs cache_unavailable at warn level", async () => {
    const caller = newOrg();
    const task = await outage.createTask("Warned", caller);
    await outage.call(`/api/v1/tasks/${task.id}`, { as: caller });
    expect(
      outage.logs.find((line) => line.event === "cache_unavailable" && line.task_id === task.id),
    ).toMatchObject({
      level: "warn",
    });
  });

  it("still completes tasks", async () => {
    const caller = newOrg();
    const task = await outage.createTask("Completed without Redis", caller);
    const response = await outage.call(`/api/v1/tasks/${task.id}/complete`, { method: "POST", as: caller });
    expect(response.status).toBe(200);
  });

  it("reports redis failed in /readyz with 503", async () => {
    const response = await outage.app.request("/readyz");
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({
      status: "not_ready",
      checks: { postgres: "ok", redis: expect.stringMatching(/^failed: /) as string },
    });
  });

  it("is ready again, and caches again, once Redis is back", async () => {
    await redis.start();
    await expect
      .poll(async () => (await outage.app.request("/readyz")).status, { timeout: 10_000, interval: 100 })
      .toBe(200);
    const caller = newOrg();
    const task = await outage.createTask("Cached again", caller);
    await outage.call(`/api/v1/tasks/${task.id}`, { as: caller });
    await outage.call(`/api/v1/tasks/${task.id}`, { as: caller });
    expect(cacheEvents(outage.logs, task.id)).toEqual(["cache_miss", "cache_hit"]);
  });
});
