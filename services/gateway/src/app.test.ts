import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createBacking, startGateway, type Backing, type Gateway } from "../test/harness.js";

let backing: Backing;
let development: Gateway;
let production: Gateway;

beforeAll(async () => {
  backing = await createBacking();
  development = startGateway(backing, {
    environment: "development",
    corsOrigins: ["https://app.example.com/"],
  });
  production = startGateway(backing, { environment: "production" });
});

afterAll(async () => {
  await development?.close();
  await production?.close();
  await backing?.close();
});

describe("API docs", () => {
  it("serves the OpenAPI document of the task API in development", async () => {
    const response = await development.app.request("/openapi.json");
    expect(response.status).toBe(200);
    const document = (await response.json()) as {
      openapi: string;
      paths: Record<string, Record<string, unknown>>;
    };
    expect(document.openapi).toMatch(/^3\./);
    expect(Object.keys(document.paths).sort()).toEqual([
      "/api/v1/tasks",
      "/api/v1/tasks/{id}",
      "/api/v1/tasks/{id}/complete",
    ]);
    expect(Object.keys(document.paths["/api/v1/tasks"] ?? {}).sort()).toEqual(["get", "post"]);
  });

  it("documents the request limits from the zod schemas", async () => {
    const document = (await (await development.app.request("/openapi.json")).json()) as {
      components: {
        schemas: { NewTask: { properties: { title: { maxLength: number } }; required: string[] } };
      };
    };
    expect(document.components.schemas.NewTask.properties.title.maxLength).toBe(200);
    expect(document.components.schemas.NewTask.required).toEqual(["title"]);
  });

  it("serves Swagger UI at /docs in development", async () => {
    const response = await development.app.request("/docs");
    expect(response.status).toBe(200);
    expect(await response.text()).toContain("/openapi.json");
  });

  it.each(["/openapi.json", "/docs"])("answers 404 JSON at %s in production", async (path) => {
    const response = await production.app.request(path);
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ error: "not_found" });
  });
});

describe("health", () => {
  it("answers /healthz with 200", async () => {
    expect(await (await development.app.request("/healthz")).json()).toEqual({ status: "ok" });
  });

  it("checks PostgreSQL and Redis in /readyz", async () => {
    const response = await development.app.request("/readyz");
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "ready", checks: { postgres: "ok", redis: "ok" } });
  });

  it("answers /readyz with 503 once shutdown has begun", async () => {
    const gateway = startGateway(backing);
    gateway.readiness.shutDown();
    expect((await gateway.app.request("/readyz")).status).toBe(503);
    await gateway.close();
  });
});

describe("correlation", () => {
  it.each([
    ["a 201", "/api/v1/tasks", { method: "POST", json: { title: "x" } }, 201],
    ["a 400", "/api/v1/tasks?limit=0", {}, 400],
    ["a 404", "/api/v1/tasks/00000000-0000-4000-8000-000000000000", {}, 404],
  ] as const)("echoes X-Correlation-ID on %s", async (_case, path, init, status) => {
    const response = await development.call(path, { ...init, headers: { "x-correlation-id": "echo-1" } });
    expect(response.status).toBe(status);
    expect(response.headers.get("x-correlation-id")).toBe("echo-1");
  });

  it("echoes X-Correlation-ID on a 401", async () => {
    const response = await development.app.request("/api/v1/tasks", {
      headers: { "x-correlation-id": "echo-2" },
    });
    expect(response.headers.get("x-correlation-id")).toBe("echo-2");
  });
});

describe("CORS", () => {
  const preflight = (gateway: Gateway, origin: string) =>
    gateway.app.request("/api/v1/tasks", {
      method: "OPTIONS",
      headers: {
        origin,
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization, content-type",
      },
    });

  it("allows a configured origin, matched without its trailing slash", async () => {
    const response = await preflight(development, "https://app.example.com");
    expect(response.status).toBe(204);
    expect(response.headers.get("access-control-allow-origin")).toBe("https://app.example.com");
    expect(response.headers.get("access-control-allow-headers")?.toLowerCase()).toContain("authorization");
  });

  it("exposes X-Correlation-ID to the allowed origin's scripts", async () => {
    const response = await development.call("/api/v1/tasks", {
      headers: { origin: "https://app.example.com" },
    });
    expect(response.headers.get("access-control-expose-headers")?.toLowerCase()).toContain(
      "x-correlation-id",
    );
  });

  it("does not allow another origin", async () => {
    const response = await preflight(development, "https://evil.example.com");
    expect(response.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("sends no CORS headers when CORS_ORIGINS is empty", async () => {
    const response = await preflight(production, "https://app.example.com");
    expect(response.headers.get("access-control-allow-origin")).toBeNull();
  });
});
