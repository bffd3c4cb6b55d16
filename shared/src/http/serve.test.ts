import type { Server } from "node:http";
import { connect } from "node:net";
import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { capturedLogger } from "../testing/http.js";
import { serveHttp, useObservability } from "./index.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const logs = capturedLogger({ level: "debug" });
const app = useObservability(new Hono(), { logger: logs.logger });
app.get("/json", (c) => c.json({ ok: true }));
app.post("/json", async (c) => c.json(await c.req.json()));

let server: Server;
let port: number;

beforeAll(async () => {
  await new Promise<void>((resolve) => {
    server = serveHttp(app, { port: 0, hostname: "127.0.0.1", logger: logs.logger }, (address) => {
      port = address.port;
      resolve();
    }) as Server;
  });
});
afterAll(
  () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
);

/** Sends bytes as they are and resolves with the raw answer once the server closes. */
function rawRequest(request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => socket.write(request, "latin1"));
    let data = "";
    socket.on("data", (chunk: Buffer) => (data += chunk.toString("latin1")));
    socket.on("end", () => resolve(data));
    socket.on("error", reject);
  });
}

function parse(answer: string) {
  const [head = "", body = ""] = answer.split("\r\n\r\n");
  return {
    status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]),
    id: /^x-correlation-id: (\S+)/im.exec(head)?.[1],
    body: JSON.parse(body) as Record<string, unknown>,
  };
}

describe("serveHttp", () => {
  it("serves the app", async () => {
    const answer = parse(await rawRequest("GET /json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
    expect(answer).toMatchObject({ status: 200, body: { ok: true } });
    expect(answer.id).toMatch(UUID);
  });

  it.each([
    ["no Host header", "GET /json HTTP/1.1\r\nConnection: close\r\n\r\n"],
    ["no Host header in HTTP/1.0", "GET /json HTTP/1.0\r\n\r\n"],
    ["a Host that is no host", "GET /json HTTP/1.1\r\nHost: a b\r\nConnection: close\r\n\r\n"],
    ["the asterisk form", "OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"],
    ["a backslash in the path", "GET /json\\..\\x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"],
  ])("answers a request with %s, which the app cannot see, with a JSON 400", async (_kind, request) => {
    const answer = parse(await rawRequest(request));
    expect(answer).toEqual({
      status: 400,
      id: expect.stringMatching(UUID) as string,
      body: { error: "bad_request", message: "Malformed HTTP request", correlation_id: answer.id },
    });
    expect(logs.lines).toContainEqual(
      expect.objectContaining({ event: "bad_http_request", correlation_id: answer.id, status_code: 400 }),
    );
  });

  it("answers an Expect other than 100-continue with a JSON 417", async () => {
    const answer = parse(
      await rawRequest("POST /json HTTP/1.1\r\nHost: x\r\nExpect: teapot\r\nContent-Length: 2\r\n\r\n{}"),
    );
    expect(answer).toMatchObject({
      status: 417,
      body: { error: "expectation_failed", correlation_id: answer.id },
    });
    expect(answer.id).toMatch(UUID);
  });

  it("still honours Expect: 100-continue", async () => {
    const answer = await rawRequest(
      "POST /json HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Type: application/json\r\n" +
        "Content-Length: 2\r\nConnection: close\r\n\r\n{}",
    );
    expect(answer).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 /);
  });

  it("answers CONNECT with a JSON 405 instead of hanging up", async () => {
    const answer = parse(await rawRequest("CONNECT 127.0.0.1:80 HTTP/1.1\r\nHost: 127.0.0.1:80\r\n\r\n"));
    expect(answer).toMatchObject({
      status: 405,
      body: { error: "method_not_allowed", correlation_id: answer.id },
    });
    expect(logs.lines).toContainEqual(
      expect.objectContaining({ event: "bad_http_request", reason: "CONNECT", correlation_id: answer.id }),
    );
  });

  it("still answers requests after all of that", async () => {
    const answer = parse(await rawRequest("GET /json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
    expect(answer.status).toBe(200);
  });
});
