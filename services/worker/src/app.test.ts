import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { notificationBody, SIGNING_SECRET, startTestWorker, type TestWorker } from "../test/harness.js";
import { verifyWebhookSignature } from "./webhook/signature.js";
import { startWebhookReceiver, type WebhookReceiver } from "@ward/shared/testing";

let worker: TestWorker;
let receiver: WebhookReceiver;

beforeAll(async () => {
  receiver = await startWebhookReceiver();
  worker = await startTestWorker({ webhookUrl: receiver.url });
});
afterAll(async () => {
  await worker?.close();
  await receiver?.close();
});

describe("POST /v1/notifications", () => {
  it("answers 202 with the notification id, queued", async () => {
    const response = await worker.notify(notificationBody());
    expect(response.status).toBe(202);
    const body = (await response.json()) as { id: string; status: string };
    expect(body.status).toBe("queued");
    expect(body.id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("delivers the notification to the webhook, which can verify its signature", async () => {
    const sent = notificationBody();
    const response = await worker.notify(sent, { correlationId: "abc-123" });
    const { id } = (await response.json()) as { id: string };

    expect((await worker.finished(id)).status).toBe("delivered");
    const [call] = receiver.callsFor(id);
    expect(call?.json).toEqual({
      id,
      event: sent.event,
      org_id: sent.org_id,
      task: sent.task,
      correlation_id: "abc-123",
    });
    expect(call?.headers["x-correlation-id"]).toBe("abc-123");
    expect(call?.headers["idempotency-key"]).toBe(id);
    const signed = {
      secret: SIGNING_SECRET,
      timestamp: call?.headers["x-ward-timestamp"] as string,
      signature: call?.headers["x-ward-signature"] as string,
      body: call?.body ?? "",
    };
    expect(verifyWebhookSignature(signed)).toBe(true);
  });

  it("stores the request's correlation id on the notification", async () => {
    const response = await worker.notify(notificationBody(), { correlationId: "row-carries-it-42" });
    const { id } = (await response.json()) as { id: string };
    expect((await worker.row(id))?.correlation_id).toBe("row-carries-it-42");
  });

  it("uses the generated correlation id when the caller sends none", async () => {
    const response = await worker.notify(notificationBody());
    const { id } = (await response.json()) as { id: string };
    const generated = response.headers.get("x-correlation-id");
    expect(generated).toMatch(/^[0-9a-f-]{36}$/);
    await worker.finished(id);
    expect(receiver.callsFor(id)[0]?.headers["x-correlation-id"]).toBe(generated);
  });

  it("with the same Idempotency-Key twice, stores one notification and calls the webhook once", async () => {
    const body = notificationBody();
    const key = `${body.task.id}:task.created`;
    const first = (await (await worker.notify(body, { key })).json()) as { id: string };
    await worker.finished(first.id);
    const again = await worker.notify(body, { key });

    expect(again.status).toBe(202);
    expect(((await again.json()) as { id: string }).id).toBe(first.id);
    const rows = await worker.sql`select id from notifications where idempotency_key = ${key}`;
    expect(rows).toHaveLength(1);
    await new Promise((resolve) => setTimeout(resolve, 500)); // room for a second call, were one queued
    expect(receiver.callsFor(first.id)).toHaveLength(1);
    expect(worker.logs.find((line) => line.event === "notification_duplicate")).toMatchObject({
      notification_id: first.id,
    });
  });

  it("answers 401 without a token", async () => {
    const anonymous = await worker.request("/v1/notifications", {
      method: "POST",
      json: notificationBody(),
      headers: { authorization: "", "idempotency-key": "k1" },
    });
    expect(anonymous.status).toBe(401);
    const body = (await anonymous.json()) as { error: string; correlation_id: string };
    expect(body.error).toBe("unauthorized");
    expect(body.correlation_id).toBe(anonymous.headers.get("x-correlation-id"));
  });

  it("answers 401 with a wrong token, and with another scheme", async () => {
    for (const authorization of ["Bearer not-the-worker-token", "Basic dXNlcjpwYXNz", "Bearer"]) {
      const response = await worker.request("/v1/notifications", {
        method: "POST",
        json: notificationBody(),
        headers: { authorization, "idempotency-key": "k2" },
      });
      expect(response.status, authorization).toBe(401);
      expect(response.headers.get("www-authenticate")).toMatch(/^Bearer/);
      expect(((await response.json()) as { error: string }).error).toBe("unauthorized");
    }
  });

  it("answers 400 with field errors for a bad body", async () => {
    const response = await worker.notify({ event: "task.deleted", task: { id: "nope", status: "open" } });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: string; details: { path: string }[] };
    expect(body.error).toBe("validation_failed");
    expect(body.details.map((detail) => detail.path).sort()).toEqual([
      "event",
      "org_id",
      "task.id",
      "task.title",
    ]);
  });

  it("answers 400 for a body that is not JSON", async () => {
    const response = await worker.request("/v1/notifications", {
      method: "POST",
      body: "{not json",
      headers: { "content-type": "application/json", "idempotency-key": "k3" },
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toMatch(/^(invalid_json|bad_request)$/);
  });

  it("answers 400 without an Idempotency-Key, or with an unsafe one", async () => {
    for (const key of [undefined, "has spaces", "x".repeat(201)]) {
      const response = await worker.request("/v1/notifications", {
        method: "POST",
        json: notificationBody(),
        headers: key === undefined ? {} : { "idempotency-key": key },
      });
      expect(response.status, String(key)).toBe(400);
      const body = (await response.json()) as { details: { path: string }[] };
      expect(body.details[0]?.path).toBe("idempotency-key");
    }
  });

  it("never logs the request body or the token", async () => {
    await worker.notify(notificationBody({ org_id: "org-with-secret-looking-title" }));
    const text = worker.logs.text();
    expect(text).not.toContain("org-with-secret-looking-title");
    expect(text).not.toContain("change-me-worker-token");
  });
});

describe("GET /v1/notifications/:id", () => {
  it("shows status, attempts and correlation id", async () => {
    const response = await worker.notify(notificationBody(), { correlationId: "get-me-7" });
    const { id } = (await response.json()) as { id: string };
    await worker.finished(id);

    const found = await worker.request(`/v1/notifications/${id}`);
    expect(found.status).toBe(200);
    const { created_at, updated_at, delivered_at, ...rest } = (await found.json()) as Record<string, string>;
    expect(rest).toEqual({
      id,
      event: "task.created",
      status: "delivered",
      attempts: 1,
      last_error: null,
      correlation_id: "get-me-7",
    });
    for (const time of [created_at, updated_at, delivered_at])
      expect(new Date(time ?? "").getTime()).not.toBeNaN();
  });

  it("answers 404 for an unknown id", async () => {
    const response = await worker.request(`/v1/notifications/${crypto.randomUUID()}`);
    expect(response.status).toBe(404);
    expect(((await response.json()) as { error: string }).error).toBe("notification_not_found");
  });

  it("answers 401 without the token", async () => {
    const response = await worker.request(`/v1/notifications/${crypto.randomUUID()}`, {
      headers: { authorization: "Bearer wrong" },
    });
    expect(response.status).toBe(401);
  });
});

describe("health and docs", () => {
  it("is live", async () => {
    const response = await worker.request("/healthz");
    expect(response.status).toBe(200);
  });

  it("is ready when PostgreSQL, Redis and the consumer loop are", async () => {
    const response = await worker.request("/readyz");
    expect(await response.json()).toEqual({
      status: "ready",
      checks: { postgres: "ok", redis: "ok", consumer: "ok" },
    });
    expect(response.status).toBe(200);
  });

  it("serves its OpenAPI document with both routes", async () => {
    const response = await worker.request("/openapi.json");
    const doc = (await response.json()) as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths).sort()).toEqual(["/v1/notifications", "/v1/notifications/{id}"]);
    expect((await worker.request("/docs")).status).toBe(200);
  });
});

describe("in production", () => {
  it("serves no API docs", async () => {
    const production = await startTestWorker({ environment: "production", start: false });
    try {
      expect((await production.request("/openapi.json")).status).toBe(404);
      expect((await production.request("/docs")).status).toBe(404);
    } finally {
      await production.close();
    }
  });
});
