/**
 * What every fuzzing test shares: one reproducible seed, the invariants every answer must keep,
 * and a tally of the cases each endpoint got (printed at the end of a file, for the README).
 */
import fc from "fast-check";
import { isValidCorrelationId } from "@ward/shared/correlation";
import { expect } from "vitest";

/** The seed every property runs with: `FC_SEED` when set (to replay a failure), else a fixed one. */
export const SEED = process.env.FC_SEED === undefined ? 20_251_126 : Number(process.env.FC_SEED);

if (!Number.isSafeInteger(SEED)) throw new Error(`FC_SEED must be an integer, got ${process.env.FC_SEED}`);

/**
 * fast-check parameters: the shared seed and `numRuns` cases. On a failure fast-check's message
 * names the seed and the path of the shrunk counterexample; rerun with `FC_SEED=<seed>`.
 *
 * @example
 * await fc.assert(property, runs(500));
 */
export function runs(numRuns: number): fc.Parameters<unknown> {
  return { seed: SEED, numRuns };
}

const tally = new Map<string, number>();

/**
 * Counts one case against `endpoint` (e.g. `POST /api/v1/tasks`).
 *
 * @example
 * count("GET /api/v1/tasks/:id");
 */
export function count(endpoint: string): void {
  tally.set(endpoint, (tally.get(endpoint) ?? 0) + 1);
}

/** The cases run per endpoint so far, as printable lines. */
export function tallyReport(title: string): string {
  const rows = [...tally].sort(([a], [b]) => a.localeCompare(b));
  const total = rows.reduce((sum, [, n]) => sum + n, 0);
  return [
    `${title} (seed ${SEED}): ${total} cases`,
    ...rows.map(([endpoint, n]) => `  ${String(n).padStart(6)}  ${endpoint}`),
  ].join("\n");
}

export interface ErrorBody {
  error: string;
  message: string;
  correlation_id: string;
}

/**
 * The promise every answer keeps, whatever was sent: no 5xx, a well-formed `X-Correlation-ID`,
 * and for every 4xx a JSON body `{ error, message, correlation_id }` whose id is the header's.
 * Returns the parsed error body (undefined for a success).
 *
 * @example
 * await expectSafeAnswer(await app.request("/api/v1/tasks", { method: "POST", body: "{" }));
 */
export async function expectSafeAnswer(response: Response, method = "GET"): Promise<ErrorBody | undefined> {
  const text = await response.text();
  const context = `${method} answered ${response.status}: ${text.slice(0, 300)}`;
  expect(response.status, context).toBeLessThan(500);
  const id = response.headers.get("x-correlation-id");
  expect(isValidCorrelationId(id), `X-Correlation-ID ${id}`).toBe(true);
  if (response.status < 400 || method === "HEAD") return undefined;
  expect(response.headers.get("content-type"), context).toMatch(/^application\/json/);
  const body = JSON.parse(text) as ErrorBody;
  expect(body, context).toMatchObject({
    error: expect.stringMatching(/^[a-z_]+$/) as string,
    message: expect.any(String) as string,
    correlation_id: id,
  });
  return body;
}

/** HTTP methods, the usual and the odd (fetch's Request refuses TRACE and CONNECT: see the socket tests). */
export const methods = fc.constantFrom(
  "GET",
  "POST",
  "PUT",
  "PATCH",
  "DELETE",
  "OPTIONS",
  "HEAD",
  "PROPFIND",
  "M-SEARCH",
);

/** Content types a client might send, right, wrong and malformed. */
export const contentTypes = fc.oneof(
  fc.constantFrom(
    "application/json",
    "application/json; charset=utf-8",
    "APPLICATION/JSON",
    "application/json; charset=utf-16",
    "application/json-patch+json",
    "application/problem+json",
    "application/jsonx",
    "text/plain",
    "text/json",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=xyz",
    "application/octet-stream",
    "*/*",
    ";",
    "",
  ),
  printableHeaderValue(60),
);

/** A header value Fetch's `Headers` accepts: visible ASCII, spaces and tabs inside, no CR/LF/NUL. */
export function printableHeaderValue(maxLength: number): fc.Arbitrary<string> {
  return fc
    .string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength })
    .map((value) => value.trim());
}

/** Strings with what breaks naive code: NUL, lone surrogates, emoji, RTL marks, JSON and SQL. */
export const nastyStrings: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: "binary", maxLength: 80 }),
  fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 40 }),
  fc.constantFrom(
    "\u0000",
    "a\u0000b",
    "\ud800",
    "\udfff x",
    "💥🚀",
    "\u202e\u200b",
    "'; drop table tasks; --",
    '","event":"forged","level":"fatal',
    "\r\nSet-Cookie: x=1",
    "../../etc/passwd",
    "%00",
    "${jndi:ldap://x}",
    "<script>alert(1)</script>",
  ),
);

/** Any JSON value, including the deep, the long and the unusual. */
export const jsonValues: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue(),
  fc.dictionary(nastyStrings, fc.jsonValue(), { maxKeys: 5 }),
  fc.array(nastyStrings, { maxLength: 5 }),
);

/** JSON nested `depth` levels deep, as arrays or objects, written without recursion. */
export function deeplyNested(depth: number, kind: "array" | "object"): string {
  return kind === "array"
    ? "[".repeat(depth) + "]".repeat(depth)
    : '{"a":'.repeat(depth) + "1" + "}".repeat(depth);
}

/** A text body that is `size` bytes of one character: near, at and over the body limit. */
export const hugeStrings = fc
  .record({
    char: fc.constantFrom("a", "é", "💥", "\\", '"', " "),
    size: fc.oneof(fc.integer({ min: 0, max: 4096 }), fc.integer({ min: 1_000_000, max: 1_100_000 })),
  })
  .map(({ char, size }) => char.repeat(Math.ceil(size / Buffer.byteLength(char))));

/** A path segment as a client may send it: raw safe characters and percent escapes of any byte. */
export const pathSegments: fc.Arbitrary<string> = fc.oneof(
  fc.uuid().map((id) => id),
  fc.uuid().map((id) => id.toUpperCase()),
  fc.string({ unit: fc.constantFrom(..."abcdefABCDEF0123456789-_.~!$&'()*+,;=:@"), maxLength: 60 }),
  fc.uint8Array({ maxLength: 40 }).map((bytes) => [...bytes].map((b) => `%${hex(b)}`).join("")),
  fc.constantFrom("%", "%zz", "%C0%80", "..", "%2e%2e", "%2F", "%00", "a%"),
);

/** A query string of arbitrary keys and values, percent-escaped byte by byte or not at all. */
export function queryStrings(keys: string[]): fc.Arbitrary<string> {
  const key = fc.oneof(fc.constantFrom(...keys), fc.string({ maxLength: 10 }).map(encodeURIComponent));
  const value = fc.oneof(
    fc.integer().map(String),
    fc.constantFrom("", "1e400", "-0", "NaN", "Infinity", "0x10", "1.5", " 7", "20abc", "%", "%zz"),
    fc.string({ maxLength: 30 }).map(encodeURIComponent),
    fc.uint8Array({ maxLength: 30 }).map((bytes) => [...bytes].map((b) => `%${hex(b)}`).join("")),
    fc
      .base64String({ maxLength: 120 })
      .map((b) => b.replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "")),
  );
  return fc
    .array(fc.tuple(key, fc.option(value, { nil: undefined })), { maxLength: 5 })
    .map((pairs) => pairs.map(([k, v]) => (v === undefined ? k : `${k}=${v}`)).join("&"));
}

function hex(byte: number): string {
  return byte.toString(16).padStart(2, "0").toUpperCase();
}
