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

// Header names as people write them by hand (`{ Authorization: ... }`); Node and fetch deliver them lower case.
const SENSITIVE_HEADERS = ["Authorization", "Proxy-Authorization", "Cookie", "Set-Cookie", "X-Api-Key"];

/**
 * pino redaction paths for sensitive keys at the top level and up to two objects deep
 * (`headers.authorization`, `req.headers.cookie`). Compiled once by pino.
 */
export const sensitivePaths: string[] = [...SENSITIVE_KEYS, ...SENSITIVE_HEADERS].flatMap((key) => {
  const prop = /^[A-Za-z_]+$/.test(key) ? `.${key}` : `["${key}"]`;
  return [prop.startsWith(".") ? key : prop, `*${prop}`, `*.*${prop}`];
});

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
