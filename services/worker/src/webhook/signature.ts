import { createHmac, timingSafeEqual } from "node:crypto";

/** The header carrying the unix time (seconds) a webhook call was signed at. */
export const TIMESTAMP_HEADER = "x-ward-timestamp";
/** The header carrying `v1=<hex HMAC-SHA256 of "<timestamp>.<raw body>">`. */
export const SIGNATURE_HEADER = "x-ward-signature";

const SCHEME = "v1=";
const HEX_SHA256 = /^[0-9a-f]{64}$/;

export interface SignWebhookOptions {
  /** WEBHOOK_SIGNING_SECRET. */
  secret: string;
  /** The exact bytes that will be sent. */
  body: string | Buffer;
  /** When the call is signed. Default now. */
  now?: Date;
}

export interface WebhookSignature {
  /** The `X-Ward-Timestamp` value: unix seconds. */
  timestamp: string;
  /** The `X-Ward-Signature` value: `v1=<hex>`. */
  signature: string;
}

/**
 * Signs a webhook body: HMAC-SHA256 under `secret` of `"<timestamp>.<body>"`, so the receiver can
 * tell an altered body (the MAC changes) and a replayed call (the signed timestamp is old).
 *
 * @example
 * const { timestamp, signature } = signWebhook({ secret, body });
 * headers["x-ward-timestamp"] = timestamp;
 * headers["x-ward-signature"] = signature;
 */
export function signWebhook({ secret, body, now = new Date() }: SignWebhookOptions): WebhookSignature {
  const timestamp = String(Math.floor(now.getTime() / 1000));
  return { timestamp, signature: `${SCHEME}${mac(secret, timestamp, body)}` };
}

export interface VerifyWebhookOptions {
  /** The shared WEBHOOK_SIGNING_SECRET. */
  secret: string;
  /** The `X-Ward-Timestamp` header. */
  timestamp: string | number | null | undefined;
  /** The `X-Ward-Signature` header; several `v1=` values separated by commas are allowed (key rotation). */
  signature: string | null | undefined;
  /** The raw request body, exactly as received (not re-serialised JSON). */
  body: string | Buffer;
  /** How far the timestamp may be from `now`, either way. Default 300. */
  toleranceSeconds?: number;
  /** The receiver's clock: a Date or milliseconds since the epoch. Default now. */
  now?: Date | number;
}

/**
 * Whether a webhook call is genuine: the signature matches the body and timestamp under `secret`
 * (compared in constant time) and the timestamp lies within `toleranceSeconds` of `now`, so a
 * captured call cannot be replayed later. Missing or malformed headers are simply not genuine.
 *
 * @example
 * const ok = verifyWebhookSignature({
 *   secret: process.env.WEBHOOK_SIGNING_SECRET,
 *   timestamp: req.headers["x-ward-timestamp"],
 *   signature: req.headers["x-ward-signature"],
 *   body: rawBody,
 * });
 * if (!ok) return res.writeHead(401).end();
 */
export function verifyWebhookSignature(options: VerifyWebhookOptions): boolean {
  const { secret, signature, body, toleranceSeconds = 300 } = options;
  const timestamp = String(options.timestamp ?? "").trim();
  if (!/^\d{1,12}$/.test(timestamp) || !signature) return false;
  const nowMs = options.now === undefined ? Date.now() : new Date(options.now).getTime();
  if (Math.abs(nowMs / 1000 - Number(timestamp)) > toleranceSeconds) return false;

  const expected = Buffer.from(mac(secret, timestamp, body), "hex");
  let matched = false;
  for (const part of signature.split(",")) {
    const value = part.trim();
    if (!value.startsWith(SCHEME)) continue;
    const hex = value.slice(SCHEME.length).toLowerCase();
    if (!HEX_SHA256.test(hex)) continue;
    // Every candidate is compared, so the time taken does not tell which one matched.
    if (timingSafeEqual(Buffer.from(hex, "hex"), expected)) matched = true;
  }
  return matched;
}

function mac(secret: string, timestamp: string, body: string | Buffer): string {
  return createHmac("sha256", secret).update(`${timestamp}.`).update(body).digest("hex");
}
