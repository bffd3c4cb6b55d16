import type { Dispatcher } from "undici";
import { signWebhook, SIGNATURE_HEADER, TIMESTAMP_HEADER } from "./signature.js";

export interface WebhookOptions {
  /** WEBHOOK_URL. */
  url: string;
  /** WEBHOOK_SIGNING_SECRET. */
  secret: string;
  /** The outbound agent (`createOutboundAgent`): it adds X-Correlation-ID and logs the call. */
  dispatcher: Dispatcher;
  /** Longest wait for the receiver's answer, in ms. Default 10000. */
  timeoutMs?: number;
}

/** What the receiver gets as the JSON body. */
export interface WebhookMessage {
  id: string;
  event: string;
  org_id: string;
  task: unknown;
  correlation_id: string;
}

/** The receiver's answer: `ok` for any 2xx. */
export interface WebhookAnswer {
  ok: boolean;
  statusCode: number;
}

export type Webhook = ReturnType<typeof createWebhook>;

/**
 * The receiver of notifications. Each call is a signed POST (`X-Ward-Timestamp`,
 * `X-Ward-Signature`) with `Idempotency-Key: <notification id>`: the one duplicate no worker can
 * rule out (it crashed after the receiver answered, before storing that) carries the same key, so
 * the receiver can drop it. Network errors and timeouts reject; any HTTP answer resolves.
 *
 * @example
 * const webhook = createWebhook({ url: settings.WEBHOOK_URL, secret, dispatcher: outbound });
 * const { ok, statusCode } = await webhook.send(message);
 */
export function createWebhook({ url, secret, dispatcher, timeoutMs = 10_000 }: WebhookOptions) {
  const { origin, pathname, search } = new URL(url);
  return {
    async send(message: WebhookMessage): Promise<WebhookAnswer> {
      const body = JSON.stringify(message);
      const { timestamp, signature } = signWebhook({ secret, body });
      const response = await dispatcher.request({
        origin,
        path: `${pathname}${search}`,
        method: "POST",
        signal: AbortSignal.timeout(timeoutMs),
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        headers: {
          "content-type": "application/json",
          "idempotency-key": message.id,
          [TIMESTAMP_HEADER]: timestamp,
          [SIGNATURE_HEADER]: signature,
        },
        body,
      });
      await response.body.dump(); // the answer's body is not used; free the socket
      const statusCode = response.statusCode;
      return { ok: statusCode >= 200 && statusCode < 300, statusCode };
    },
  };
}
