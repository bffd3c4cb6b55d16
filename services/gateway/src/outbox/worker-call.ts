import type { Dispatcher } from "undici";
import type { OutboxEntry } from "./store.js";

/** What the worker made of one notification request. */
export type WorkerAnswer =
  | { kind: "delivered"; statusCode: number; notificationId?: string }
  | { kind: "retry"; statusCode?: number; error: string; err: Error }
  | { kind: "rejected"; statusCode: number; error: string };

/**
 * The relay's one call to the worker: `POST /v1/notifications` with the entry's payload, its
 * Idempotency-Key and the service token, on the worker's keep-alive pool. The correlation ID comes
 * from the caller's context (the pool's interceptor sends it). Never throws: a network error, a
 * 5xx, 408 or 429 is worth a retry; any other 4xx is final.
 *
 * @example
 * const callWorker = workerCall({ worker, workerToken: settings.WORKER_TOKEN });
 * const answer = await withCorrelation(entry.correlation_id, () => callWorker(entry));
 */
export function workerCall({
  worker,
  workerToken,
}: {
  worker: Dispatcher;
  workerToken: string;
}): (entry: OutboxEntry) => Promise<WorkerAnswer> {
  const authorization = `Bearer ${workerToken}`;
  return async function send(entry) {
    try {
      const { statusCode, body } = await worker.request({
        method: "POST",
        path: "/v1/notifications",
        headers: {
          authorization,
          "content-type": "application/json",
          "idempotency-key": entry.idempotency_key,
        },
        body: JSON.stringify(entry.payload),
      });
      const text = await body.text();
      if (statusCode >= 200 && statusCode < 300) {
        return { kind: "delivered", statusCode, notificationId: notificationIdOf(text) };
      }
      const error = `HTTP ${statusCode}${errorCodeOf(text)}`;
      if (statusCode >= 500 || statusCode === 408 || statusCode === 429) {
        return { kind: "retry", statusCode, error, err: new Error(`The worker answered ${error}`) };
      }
      return { kind: "rejected", statusCode, error };
    } catch (caught) {
      const err = caught instanceof Error ? caught : new Error(String(caught));
      return { kind: "retry", error: `${err.name}: ${err.message}`.slice(0, 500), err };
    }
  };
}

/** The notification id from the worker's 202 `{ id, status }`, if it is there. */
function notificationIdOf(text: string): string | undefined {
  try {
    const id = (JSON.parse(text) as { id?: unknown }).id;
    return typeof id === "string" ? id : undefined;
  } catch {
    return undefined;
  }
}

/** " <code>" from an error body `{ error: "<code>" }`: short and safe to store and log. */
function errorCodeOf(text: string): string {
  try {
    const code = (JSON.parse(text) as { error?: unknown }).error;
    return typeof code === "string" && /^[a-z0-9_]{1,64}$/.test(code) ? ` ${code}` : "";
  } catch {
    return "";
  }
}
