import { describe, expect, it } from "vitest";
import { signWebhook, verifyWebhookSignature } from "./signature.js";

const secret = "change-me-webhook-signing-secret-for-tests";
const body = JSON.stringify({ id: "n1", event: "task.created", correlation_id: "abc-123" });
const signedAt = new Date("2030-01-02T03:04:05Z");
const { timestamp, signature } = signWebhook({ secret, body, now: signedAt });

describe("webhook signatures", () => {
  it("signs with the unix time and a v1 hex HMAC", () => {
    expect(timestamp).toBe(String(signedAt.getTime() / 1000));
    expect(signature).toMatch(/^v1=[0-9a-f]{64}$/);
  });

  it("accepts the body it signed, under the same secret, in time", () => {
    expect(verifyWebhookSignature({ secret, timestamp, signature, body, now: signedAt })).toBe(true);
  });

  it("accepts a Buffer of the same bytes", () => {
    const raw = Buffer.from(body);
    expect(verifyWebhookSignature({ secret, timestamp, signature, body: raw, now: signedAt })).toBe(true);
  });

  it("rejects an altered body", () => {
    const altered = body.replace("task.created", "task.completed");
    expect(verifyWebhookSignature({ secret, timestamp, signature, body: altered, now: signedAt })).toBe(
      false,
    );
  });

  it("rejects a signature made with another secret", () => {
    const other = `${secret}-other`;
    expect(verifyWebhookSignature({ secret: other, timestamp, signature, body, now: signedAt })).toBe(false);
  });

  it("rejects a replay outside the tolerance", () => {
    const later = signedAt.getTime() + 301_000;
    expect(verifyWebhookSignature({ secret, timestamp, signature, body, now: later })).toBe(false);
  });

  it("accepts a call within a custom tolerance", () => {
    const later = signedAt.getTime() + 30_000;
    const options = { secret, timestamp, signature, body, now: later };
    expect(verifyWebhookSignature({ ...options, toleranceSeconds: 60 })).toBe(true);
    expect(verifyWebhookSignature({ ...options, toleranceSeconds: 10 })).toBe(false);
  });

  it("rejects a timestamp changed after signing", () => {
    const moved = String(Number(timestamp) + 1);
    expect(verifyWebhookSignature({ secret, timestamp: moved, signature, body, now: signedAt })).toBe(false);
  });

  it("rejects missing or malformed headers without throwing", () => {
    const cases = [
      { timestamp: undefined, signature },
      { timestamp, signature: undefined },
      { timestamp: "yesterday", signature },
      { timestamp, signature: "v1=not-hex" },
      { timestamp, signature: signature.slice(0, -2) },
      { timestamp, signature: signature.replace("v1=", "v0=") },
    ];
    for (const headers of cases) {
      expect(verifyWebhookSignature({ secret, body, now: signedAt, ...headers })).toBe(false);
    }
  });

  it("accepts any one of several signatures, for secret rotation", () => {
    const old = signWebhook({ secret: "change-me-old-secret-xxxxxxxxxxxxxxxxxxx", body, now: signedAt });
    const both = `${old.signature}, ${signature}`;
    expect(verifyWebhookSignature({ secret, timestamp, signature: both, body, now: signedAt })).toBe(true);
  });
});
