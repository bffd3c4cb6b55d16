// Sentry's own DSN pattern: protocol, public key (word characters), optional secret, host, port,
// then a path ending in the numeric project id.
const DSN = /^https?:\/\/\w+(?::\w*)?@(?:\[[:.%\w]+\]|[\w.-]+)(?::\d+)?\/(?:[^?#]*\/)?\d+$/;

/**
 * Whether `value` is a DSN Sentry accepts, e.g. `https://<public key>@o1.ingest.sentry.io/42`.
 * Check before handing one to the SDK: when it refuses a DSN it prints the whole value (a secret)
 * to stderr and quietly stays off.
 *
 * @example
 * isSentryDsn("https://abc123@o1.ingest.sentry.io/42"); // true
 * isSentryDsn("https://abc-123@o1.ingest.sentry.io/"); // false: no project id, and "-" in the key
 */
export function isSentryDsn(value: string): boolean {
  return DSN.test(value.trim());
}
