// What only a raw socket can send, against the real built gateway and worker: invalid UTF-8,
// CR/LF and NUL inside headers, malformed request lines, smuggling attempts, oversized heads and
// bodies, and randomly mutated requests. Every answer is a JSON 4xx (or a success) with a
// correlation ID; no process dies; every line either writes is whole JSON.
import fc from "fast-check";
import { isValidCorrelationId } from "@ward/shared/correlation";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startPair, type Pair } from "../support/pair.js";
import { count, runs, tallyReport } from "./support/fuzz.js";
import { httpRequest, sendRaw, type RawAnswer } from "./support/raw-http.js";

let pair: Pair;
let ports: { gateway: number; worker: number };
let userToken: string;
let noAnswer = 0;

beforeAll(async () => {
  pair = await startPair();
  ports = { gateway: Number(new URL(pair.gateway.url).port), worker: Number(new URL(pair.worker.url).port) };
  userToken = await pair.token();
});

afterAll(async () => {
  console.log(
    `${tallyReport("raw HTTP against the real processes")}\n  ${noAnswer} closed without an answer`,
  );
  if (pair) expect(await pair.stop()).toEqual({ gateway: 0, worker: 0 });
});

type Service = "gateway" | "worker";

/** The Authorization header each service's API wants. */
const bearer = (service: Service) =>
  `Bearer ${service === "gateway" ? userToken : pair.secrets.WORKER_TOKEN}`;

/** An API request of each service, well-formed unless `title` is: the template the cases below break. */
function validRequest(service: Service, title: Buffer = Buffer.from("raw")): Buffer {
  const json = (before: string, after: string) =>
    Buffer.concat([Buffer.from(before), title, Buffer.from(after)]);
  return service === "gateway"
    ? httpRequest(
        "POST",
        "/api/v1/tasks",
        { authorization: bearer(service), "content-type": "application/json" },
        json('{"title":"', '"}'),
      )
    : httpRequest(
        "POST",
        "/v1/notifications",
        {
          authorization: bearer(service),
          "content-type": "application/json",
          "idempotency-key": `raw:${crypto.randomUUID()}`,
        },
        json(
          `{"event":"task.created","org_id":"org-1","task":{"id":"${crypto.randomUUID()}","title":"`,
          '","status":"open"}}',
        ),
      );
}

const apiPath = (service: Service) => (service === "gateway" ? "/api/v1/tasks" : "/v1/notifications");

/** The answer keeps the contract: below 500, a well-formed correlation ID, errors as JSON carrying it. */
function expectSafe(answer: RawAnswer, context: string): void {
  expect(answer.status, `${context}: ${answer.raw.toString("latin1").slice(0, 300)}`).toBeLessThan(500);
  const id = answer.headers["x-correlation-id"];
  expect(isValidCorrelationId(id), `${context}: correlation id ${id}`).toBe(true);
  if (answer.status! >= 400) {
    expect(answer.headers["content-type"], context).toMatch(/^application\/json/);
    expect(JSON.parse(answer.body), context).toMatchObject({
      error: expect.stringMatching(/^[a-z_]+$/) as string,
      message: expect.any(String) as string,
      correlation_id: id,
    });
  }
}

const head = (service: Service, lines: string) =>
  `POST ${apiPath(service)} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${bearer(service)}\r\n` +
  `Content-Type: application/json\r\n${lines}`;

/** [case, request, expected status (undefined: any below 500), end our side after writing] */
type Case = [string, (service: Service) => string | Buffer, number | undefined, boolean?];

const cases: Case[] = [
  ["a well-formed request", validRequest, undefined],
  [
    "invalid UTF-8 inside a JSON string of the body",
    (s) => validRequest(s, Buffer.from([0xff, 0xc0, 0x80, 0xed, 0xa0, 0x80])),
    undefined,
  ],
  [
    "invalid UTF-8 as the whole body",
    (s) => `${head(s, "Content-Length: 4\r\nConnection: close\r\n\r\n")}\xff\xfe\xfd\xfc`,
    400,
  ],
  [
    "invalid UTF-8 in X-Correlation-ID",
    () => httpRequest("GET", "/healthz", { "x-correlation-id": Buffer.from([0xff, 0xfe, 0x41]) }),
    200,
  ],
  [
    "invalid UTF-8 in the Authorization header",
    (s) =>
      httpRequest("GET", apiPath(s), {
        authorization: Buffer.concat([Buffer.from("Bearer "), Buffer.from([0xff, 0xc0])]),
      }),
    401,
  ],
  [
    "a CR inside a header value",
    () => "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Correlation-ID: abc\rX-Injected: 1\r\n\r\n",
    400,
  ],
  [
    "a bare LF inside a header value",
    () => "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Correlation-ID: abc\nX-Injected: 1\r\n\r\n",
    400,
  ],
  [
    "a NUL inside a header value",
    () => "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Correlation-ID: a\0b\r\n\r\n",
    400,
  ],
  [
    "a folded header line",
    () => "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Correlation-ID: abc\r\n folded\r\n\r\n",
    400,
  ],
  ["a space before a header's colon", () => "GET /healthz HTTP/1.1\r\nHost : x\r\n\r\n", 400],
  ["lines ended by LF alone", () => "GET /healthz HTTP/1.1\nHost: x\n\n", 400],
  [
    "TLS bytes on the plain port",
    () => Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]),
    400,
  ],
  ["an unknown HTTP version", () => "GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n", 400],
  ["a lower-case method", () => "get /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 400],
  ["a request target without a slash", () => "GET healthz HTTP/1.1\r\nHost: x\r\n\r\n", 400],
  [
    "raw non-ASCII bytes in the path",
    (s) =>
      Buffer.concat([
        Buffer.from(`GET ${apiPath(s)}/`),
        Buffer.from([0xff, 0xc3, 0x28]),
        Buffer.from(" HTTP/1.1\r\nHost: x\r\n\r\n"),
      ]),
    400,
  ],
  ["no Host header", () => "GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n", 400],
  ["HTTP/1.0 without Host", () => "GET /healthz HTTP/1.0\r\n\r\n", 400],
  [
    "a Host that is no host name",
    () => "GET /healthz HTTP/1.1\r\nHost: a b/c\r\nConnection: close\r\n\r\n",
    400,
  ],
  ["the asterisk form", () => "OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 400],
  [
    "a backslash in the path",
    () => "GET /healthz\\..\\..\\x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    400,
  ],
  [
    "an absolute-form target naming another host",
    () => "GET http://evil.example/healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    200,
  ],
  ["TRACE", () => "TRACE /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 404],
  ["CONNECT", () => "CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n", 405],
  [
    "an Upgrade to WebSocket",
    () =>
      "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
    200,
  ],
  ["an Expect other than 100-continue", (s) => head(s, "Expect: teapot\r\nContent-Length: 2\r\n\r\n{}"), 417],
  ["Content-Length that is not a number", (s) => head(s, "Content-Length: abc\r\n\r\n"), 400],
  ["a negative Content-Length", (s) => head(s, "Content-Length: -1\r\n\r\n"), 400],
  ["two different Content-Lengths", (s) => head(s, "Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}"), 400],
  [
    "Content-Length with Transfer-Encoding (smuggling)",
    (s) =>
      head(
        s,
        "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
      ),
    400,
  ],
  ["Transfer-Encoding other than chunked", (s) => head(s, "Transfer-Encoding: gzip\r\n\r\n"), 400],
  [
    "a chunk size that is not hex",
    (s) => head(s, "Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n"),
    400,
  ],
  ["a Content-Length of 100 GB", (s) => head(s, "Content-Length: 99999999999\r\n\r\n{"), 413],
  [
    "a chunked body over 1 MiB",
    (s) =>
      Buffer.concat([
        Buffer.from(head(s, "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n")),
        ...Array.from({ length: 17 }, () => Buffer.from(`10000\r\n${"a".repeat(0x10000)}\r\n`)),
        Buffer.from("0\r\n\r\n"),
      ]),
    413,
  ],
  [
    "a body shorter than its Content-Length, then the end",
    (s) => head(s, 'Content-Length: 100\r\n\r\n{"title"'),
    400,
    true,
  ],
  ["a request line cut short, then the end", () => "GET /heal", 400, true],
  [
    "a header of 20 KB",
    () => `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`,
    431,
  ],
  ["a URL of 20 KB", () => `GET /${"a".repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`, 431],
  ["2 000 headers", () => `GET /healthz HTTP/1.1\r\nHost: x\r\n${"X-A: 1\r\n".repeat(2000)}\r\n`, undefined],
];

describe.each(["gateway", "worker"] as const)("the %s, sent by hand", (service) => {
  it.each(cases)("answers %s within the contract", async (label, build, status, halfClose) => {
    count(`${service}: malformed-request table`);
    const answer = await sendRaw(ports[service], build(service), { halfClose });
    expectSafe(answer, label);
    if (status !== undefined) expect(answer.status, label).toBe(status);
  });

  it("answers randomly mutated requests within the contract", async () => {
    const template = validRequest(service);
    const byte = fc.oneof(
      fc.constantFrom(0x00, 0x0d, 0x0a, 0x20, 0x3a, 0x7f, 0x80, 0xff),
      fc.integer({ min: 0, max: 255 }),
    );
    const mutation = fc.oneof(
      fc.record({
        kind: fc.constant("insert" as const),
        at: fc.nat(),
        bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }),
      }),
      fc.record({ kind: fc.constant("replace" as const), at: fc.nat(), byte }),
      fc.record({
        kind: fc.constant("delete" as const),
        at: fc.nat(),
        length: fc.integer({ min: 1, max: 12 }),
      }),
      fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 4 }), async (mutations) => {
        count(`${service}: mutated requests`);
        let bytes = Buffer.from(template);
        for (const m of mutations) {
          const at = m.at % (bytes.length + 1);
          if (m.kind === "insert")
            bytes = Buffer.concat([bytes.subarray(0, at), m.bytes, bytes.subarray(at)]);
          else if (m.kind === "replace" && at < bytes.length) bytes[at] = m.byte;
          else if (m.kind === "delete")
            bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + m.length)]);
          else if (m.kind === "truncate") bytes = bytes.subarray(0, at);
        }
        const answer = await sendRaw(ports[service], bytes, { halfClose: true, timeoutMs: 3000 });
        // A client that hangs up mid-request may be left unanswered: counted, never a failure.
        if (answer.status === undefined) noAnswer += 1;
        else expectSafe(answer, JSON.stringify(bytes.toString("latin1")));
      }),
      runs(1000),
    );
  });
});

describe("afterwards", () => {
  it.each(["gateway", "worker"] as const)("the %s still runs and answers /healthz", async (service) => {
    expect(pair[service].runs.at(-1)?.child.exitCode).toBeNull();
    expect((await fetch(`${pair[service].url}/healthz`)).status).toBe(200);
  });

  it.each(["gateway", "worker"] as const)("every line the %s wrote is whole JSON", (service) => {
    const raw = pair[service]
      .stdout()
      .split("\n")
      .filter((line) => line !== "");
    expect(raw.length).toBeGreaterThan(100);
    expect(raw.filter((line) => !isJson(line))).toEqual([]);
  });

  it("no line carries a header the requests tried to inject", () => {
    expect(pair.output()).not.toMatch(/X-Injected|folded|dGhlIHNhbXBsZSBub25jZQ/);
  });

  it("each request refused before the app is logged once as bad_http_request, by reason", () => {
    const refused = pair.lines().filter((line) => line.event === "bad_http_request");
    expect(refused.length).toBeGreaterThan(40);
    for (const line of refused)
      expect(line).toMatchObject({ level: "warn", reason: expect.any(String) as string });
  });
});

function isJson(line: string): boolean {
  try {
    JSON.parse(line);
    return true;
  } catch {
    return false;
  }
}
