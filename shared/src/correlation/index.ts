import { AsyncLocalStorage } from "node:async_hooks";
import { randomUUID } from "node:crypto";

/** The header that carries a request's wristband between services. */
export const CORRELATION_HEADER = "x-correlation-id";

/** The longest correlation ID kept as received. */
export const MAX_CORRELATION_ID_LENGTH = 128;

/**
 * The fields every log line written in this context carries. Keys are log field names,
 * so the logger can merge the object as it is, without copying.
 */
export interface LogContext {
  correlation_id: string;
  [field: string]: unknown;
}

const storage = new AsyncLocalStorage<LogContext>();
const SAFE_ID = /^[A-Za-z0-9._:@/+=-]{1,128}$/;

/**
 * Runs `fn` inside a new context that carries `correlationId`; everything it awaits,
 * and every log line it writes, sees that ID.
 *
 * @example
 * await withCorrelation(job.correlationId, () => deliver(job));
 */
export function withCorrelation<T>(correlationId: string, fn: () => T, fields?: Record<string, unknown>): T {
  return storage.run({ ...fields, correlation_id: correlationId }, fn);
}

/**
 * The correlation ID of the current request or job, if any.
 *
 * @example
 * const id = currentCorrelationId(); // "abc-123" inside a request, undefined outside one
 */
export function currentCorrelationId(): string | undefined {
  return storage.getStore()?.correlation_id;
}

/**
 * The correlation ID of the current request or job; outside one, a fresh one, so what is
 * stored or sent from a timer or a script still carries an ID.
 *
 * @example
 * headers[CORRELATION_HEADER] = currentOrNewCorrelationId();
 */
export function currentOrNewCorrelationId(): string {
  return currentCorrelationId() ?? newCorrelationId();
}

/**
 * The live context object of the current request or job (for the logger's mixin).
 *
 * @example
 * const fields = currentContext(); // { correlation_id: "abc-123", user_id: "u1" }
 */
export function currentContext(): Readonly<LogContext> | undefined {
  return storage.getStore();
}

/**
 * Adds fields to the current context, so every later log line of this request carries them
 * (like structlog's `bind_contextvars`). Outside a context it does nothing.
 *
 * @example
 * bindContext({ user_id: claims.sub, org_id: claims.org_id });
 */
export function bindContext(fields: Record<string, unknown>): void {
  const store = storage.getStore();
  if (store) Object.assign(store, fields, { correlation_id: store.correlation_id });
}

/**
 * Whether an incoming correlation ID may be kept as it is: 1 to 128 characters from a
 * safe set (letters, digits and `. _ : @ / + = -`), so it can never break a header or a log line.
 *
 * @example
 * isValidCorrelationId("abc-123"); // true
 * isValidCorrelationId("a\r\nSet-Cookie: x"); // false
 */
export function isValidCorrelationId(value: string | null | undefined): value is string {
  return typeof value === "string" && SAFE_ID.test(value);
}

/**
 * A fresh correlation ID (a random UUID).
 *
 * @example
 * const id = newCorrelationId();
 */
export function newCorrelationId(): string {
  return randomUUID();
}
