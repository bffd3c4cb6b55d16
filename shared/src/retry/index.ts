export interface BackoffOptions {
  /** The delay after the first failed attempt, in ms; it doubles with each further one. Default 1000. */
  baseMs?: number;
  /** The longest delay, in ms. Default 300000 (5 minutes). */
  maxMs?: number;
  /** A number in [0, 1). Default Math.random. */
  random?: () => number;
}

/**
 * ward's one retry policy: how long to wait after failed attempt number `attempt` (1, 2, ...):
 * exponential (1 s, 2 s, 4 s, ... capped at `maxMs`) with "equal jitter": half of it fixed, half
 * random, so the retries of many calls that failed together (their receiver was down, or every
 * replica lost it at once) do not all return in the same instant. The worker's webhook deliveries
 * and the gateway's outbox relay both wait this long.
 *
 * @example
 * retryDelay(3); // between 2000 and 4000
 * retryDelay(attempt, { baseMs: 1000, maxMs: 30_000 });
 */
export function retryDelay(attempt: number, options: BackoffOptions = {}): number {
  const { baseMs = 1000, maxMs = 300_000, random = Math.random } = options;
  const exponential = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exponential / 2 + (exponential / 2) * random());
}
