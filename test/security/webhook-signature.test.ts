// Properties of the webhook signature, beyond the worker's own examples: it verifies whatever the
// body and secret, and any change to the body, the secret or the timestamp, or any age beyond
// the tolerance either way, fails, without ever throwing on hostile header values.
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { signWebhook, verifyWebhookSignature } from "../../services/worker/src/webhook/signature.js";
import { count, runs, tallyReport } from "./support/fuzz.js";

afterAll(() => console.log(tallyReport("webhook signatures")));

const secrets = fc.string({ unit: "binary", minLength: 32, maxLength: 80 });
const bodies = fc.oneof(
  fc.uint8Array({ maxLength: 2000 }).map((bytes) => Buffer.from(bytes)),
  fc.json().map((text) => Buffer.from(text)),
);
const signedAt = fc.date({
  min: new Date("2000-01-01T00:00:00Z"),
  max: new Date("2100-01-01T00:00:00Z"),
  noInvalidDate: true,
});

describe("a webhook signature", () => {
  it("verifies for any body and secret, at any moment within 300 s either way", () => {
    fc.assert(
      fc.property(
        secrets,
        bodies,
        signedAt,
        fc.integer({ min: -300_000, max: 300_000 }),
        (secret, body, at, skew) => {
          count("verify genuine");
          const { timestamp, signature } = signWebhook({ secret, body, now: at });
          // The timestamp is whole seconds, so measure the skew from it.
          const now = Number(timestamp) * 1000 + skew;
          expect(verifyWebhookSignature({ secret, timestamp, signature, body, now })).toBe(true);
        },
      ),
      runs(500),
    );
  });

  it("fails for any body changed in one byte, added to or cut", () => {
    const change = fc.oneof(
      fc.record({ kind: fc.constant("flip" as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
      fc.record({
        kind: fc.constant("append" as const),
        bytes: fc.uint8Array({ minLength: 1, maxLength: 4 }),
      }),
      fc.record({ kind: fc.constant("cut" as const), at: fc.nat() }),
    );
    fc.assert(
      fc.property(secrets, bodies, change, (secret, body, edit) => {
        count("verify altered body");
        const { timestamp, signature } = signWebhook({ secret, body });
        let altered: Buffer;
        if (edit.kind === "append") altered = Buffer.concat([body, edit.bytes]);
        else if (body.length === 0) altered = Buffer.from(" ");
        else if (edit.kind === "cut") altered = body.subarray(0, edit.at % body.length);
        else {
          altered = Buffer.from(body);
          const at = edit.at % body.length;
          altered[at] = altered[at]! ^ (1 << edit.bit);
        }
        expect(verifyWebhookSignature({ secret, timestamp, signature, body: altered })).toBe(false);
      }),
      runs(500),
    );
  });

  it("fails under any other secret", () => {
    fc.assert(
      fc.property(secrets, secrets, bodies, (secret, other, body) => {
        fc.pre(secret !== other);
        count("verify wrong secret");
        const { timestamp, signature } = signWebhook({ secret, body });
        expect(verifyWebhookSignature({ secret: other, timestamp, signature, body })).toBe(false);
      }),
      runs(300),
    );
  });

  it("fails when replayed more than 300 s late, or presented more than 300 s early", () => {
    fc.assert(
      fc.property(
        secrets,
        bodies,
        signedAt,
        fc.integer({ min: 301, max: 10 * 365 * 86_400 }),
        fc.boolean(),
        (secret, body, at, seconds, late) => {
          count("verify replay");
          const { timestamp, signature } = signWebhook({ secret, body, now: at });
          const now = (Number(timestamp) + (late ? seconds : -seconds)) * 1000;
          expect(verifyWebhookSignature({ secret, timestamp, signature, body, now })).toBe(false);
        },
      ),
      runs(300),
    );
  });

  it("fails when the timestamp is changed, even with the signature kept", () => {
    fc.assert(
      fc.property(secrets, bodies, fc.integer({ min: -300, max: 300 }), (secret, body, shift) => {
        fc.pre(shift !== 0);
        count("verify moved timestamp");
        const { timestamp, signature } = signWebhook({ secret, body });
        const moved = String(Number(timestamp) + shift);
        expect(verifyWebhookSignature({ secret, timestamp: moved, signature, body })).toBe(false);
      }),
      runs(300),
    );
  });

  it("returns false, never throws, for any header values", () => {
    const header = fc.oneof(
      fc.string({ unit: "binary", maxLength: 200 }),
      fc.constantFrom(
        undefined,
        null,
        "",
        "v1=",
        "v1=,v1=",
        `v1=${"0".repeat(64)}`,
        `v1=${"g".repeat(64)}`,
        `v1=${"a".repeat(63)}`,
        `v1=${"A".repeat(128)}`,
      ),
      fc
        .array(
          fc.string({ unit: fc.constantFrom(..."0123456789abcdefABCDEF"), minLength: 60, maxLength: 68 }),
          { maxLength: 20 },
        )
        .map((parts) => parts.map((p) => `v1=${p}`).join(",")),
    );
    const timestamp = fc.oneof(
      fc.string({ maxLength: 20 }),
      fc.integer().map(String),
      fc.constantFrom(undefined, null, "", "1e10", "-1", " 1700000000", "0x10", "99999999999999999999"),
      fc.double(),
    );
    fc.assert(
      fc.property(header, timestamp, bodies, (signature, stamp, body) => {
        count("verify hostile headers");
        expect(
          verifyWebhookSignature({
            secret: "change-me-webhook-secret-0123456789abc",
            timestamp: stamp,
            signature,
            body,
          }),
        ).toBe(false);
      }),
      runs(1000),
    );
  });
});
