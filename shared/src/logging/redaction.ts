/** The text that replaces anything redacted. */
export const REDACTED = "[redacted]";

const SENSITIVE_KEYS = [
  "authorization",
  "proxy-authorization",
  "cookie",
  "set-cookie",
  "password",
  "passwd",
  "secret",
  "token",
  "access_token",
  "refresh_token",
  "id_token",
  "client_secret",
  "api_key",
  "apikey",
  "x-api-key",
  "jwt",
  "body",
];

// Compared in lower case: header names arrive as `authorization` from Node and as `Authorization`
// from people writing `{ headers: { Authorization } }` by hand.
const SENSITIVE = new Set(SENSITIVE_KEYS);

/** Levels below a line's own fields (level 0) whose keys are checked: `headers.authorization` is 1, `req.headers.cookie` 2. */
const DEEPEST = 2;

/** Whether a key names a value that never reaches a log, in any letter case. */
function isSensitiveKey(key: string): boolean {
  return SENSITIVE.has(key.toLowerCase());
}

/**
 * Replaces the values of sensitive keys (passwords, tokens, Authorization and Cookie headers,
 * bodies, ...) in `fields` and in the objects below it, down to `req.headers.cookie`, by
 * {@link REDACTED}. It copies only the objects it changes, never touches the caller's, and
 * returns `fields` itself when nothing is sensitive, so a line without nested objects costs one
 * lookup per key. `depth` says how far below a line's top level `fields` sits; the value under
 * `skip` is left alone (the logger's error serializer redacts an error once it is a plain object).
 *
 * @example
 * redactSensitive({ headers: { authorization: "Bearer x", accept: "text/plain" } });
 * // { headers: { authorization: "[redacted]", accept: "text/plain" } }
 */
export function redactSensitive<T extends object>(fields: T, depth = 0, skip?: string): T {
  let copy: Record<string, unknown> | undefined;
  for (const key in fields) {
    if (!Object.hasOwn(fields, key)) continue;
    const value: unknown = fields[key];
    let clean = value;
    if (isSensitiveKey(key)) {
      if (value !== undefined) clean = REDACTED;
    } else if (depth < DEEPEST && typeof value === "object" && value !== null && key !== skip) {
      // Byte arrays hold no keys, only many indexes.
      if (!ArrayBuffer.isView(value)) clean = redactSensitive(value, depth + 1);
    }
    if (clean !== value) {
      copy ??= (Array.isArray(fields) ? [...fields] : { ...fields }) as Record<string, unknown>;
      copy[key] = clean;
    }
  }
  return (copy as T | undefined) ?? fields;
}

const CREDENTIALS_IN_URL = /(\/\/[^:/@\s"]*:)[^@\s"/]+@/g;

/**
 * Builds the function that scrubs one serialized log line: it replaces the live values of
 * secret settings (as written raw and as JSON-escaped), the password inside any of them
 * that is a URL, and the password of any `scheme://user:password@` URL in the line.
 *
 * @example
 * const scrub = secretScrubber(["s3cr3t-value"]);
 * scrub('{"msg":"token s3cr3t-value"}'); // '{"msg":"token [redacted]"}'
 */
export function secretScrubber(secrets: readonly string[]): (line: string) => string {
  const needles = [...new Set(secrets.flatMap(needlesOf))]
    .filter((needle) => needle.length >= 4)
    .sort((a, b) => b.length - a.length);
  return (line) => {
    for (const needle of needles) {
      if (line.includes(needle)) line = line.replaceAll(needle, REDACTED);
    }
    if (line.includes("://")) line = line.replace(CREDENTIALS_IN_URL, `$1${REDACTED}@`);
    return line;
  };
}

function needlesOf(secret: string): string[] {
  const found = [secret, JSON.stringify(secret).slice(1, -1)];
  const password = urlPassword(secret);
  if (password) found.push(password, percentDecoded(password));
  return found;
}

// A password with a stray "%" is still a password to scrub, not a reason to crash at start-up.
function percentDecoded(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

function urlPassword(value: string): string | undefined {
  if (!value.includes("://")) return undefined;
  try {
    return new URL(value).password || undefined;
  } catch {
    return undefined;
  }
}
