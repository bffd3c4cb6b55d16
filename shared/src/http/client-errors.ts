import type { ServerType } from "@hono/node-server";
import { ServerResponse, type IncomingMessage, type Server } from "node:http";
import type { Socket } from "node:net";
import { newCorrelationId, withCorrelation } from "../correlation/index.js";
import type { Logger } from "../logging/index.js";

type Answer = [status: number, reason: string, code: string, message: string];

const ANSWERS: Record<string, Answer> = {
  HPE_HEADER_OVERFLOW: [
    431,
    "Request Header Fields Too Large",
    "headers_too_large",
    "Request headers are too large",
  ],
  ERR_HTTP_REQUEST_TIMEOUT: [408, "Request Timeout", "request_timeout", "The request took too long"],
};
const MALFORMED: Answer = [400, "Bad Request", "bad_request", "Malformed HTTP request"];
const EXPECTATION_FAILED: Answer = [
  417,
  "Expectation Failed",
  "expectation_failed",
  "Only Expect: 100-continue is supported",
];
const CONNECT_REFUSED: Answer = [405, "Method Not Allowed", "method_not_allowed", "CONNECT is not supported"];

/**
 * Answers requests Node's HTTP server refuses before the app sees them the way the app answers
 * errors: JSON `{ error, message, correlation_id }` with a fresh `X-Correlation-ID`, and one
 * `bad_http_request` line that names the reason, never the raw bytes. That is what its parser
 * rejects (a header value with CR or LF, oversized headers, ...), an `Expect` other than
 * `100-continue` (417) and `CONNECT` (405), which Node would answer bare or by hanging up.
 *
 * @example
 * const server = serve({ fetch: app.fetch, port: settings.PORT });
 * handleClientErrors(server, { logger });
 */
export function handleClientErrors(server: ServerType, { logger }: { logger: Logger }): void {
  const refuse = (to: Socket | ServerResponse, [status, reason, error, message]: Answer, code?: string) => {
    const id = newCorrelationId();
    const body = JSON.stringify({ error, message, correlation_id: id });
    const headers = {
      "Content-Type": "application/json",
      "Content-Length": Buffer.byteLength(body),
      "X-Correlation-ID": id,
      Connection: "close",
    };
    if (to instanceof ServerResponse) to.writeHead(status, reason, headers).end(body);
    else {
      const head = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`);
      to.end(`HTTP/1.1 ${status} ${reason}\r\n${head.join("")}\r\n${body}`);
    }
    withCorrelation(id, () => logger.warn({ reason: code, status_code: status }, "bad_http_request"));
  };
  // HTTP/1 servers (what serve() makes by default) emit these; HTTP/2 ones never do.
  const http1 = server as Server;
  http1.on("clientError", (err: NodeJS.ErrnoException, socket: Socket) => {
    if (err.code === "ECONNRESET" || !socket.writable || socket.bytesWritten > 0) {
      socket.destroy();
      return;
    }
    refuse(socket, (err.code && ANSWERS[err.code]) || MALFORMED, err.code);
  });
  http1.on("checkExpectation", (_req: IncomingMessage, res: ServerResponse) => {
    refuse(res, EXPECTATION_FAILED, "EXPECTATION_FAILED");
  });
  http1.on("connect", (_req: IncomingMessage, socket: Socket) => {
    if (socket.writable) refuse(socket, CONNECT_REFUSED, "CONNECT");
    else socket.destroy();
  });
}
