import type { ServerType } from "@hono/node-server";
import type { Server } from "node:http";
import type { Socket } from "node:net";
import { newCorrelationId, withCorrelation } from "../correlation/index.js";
import type { Logger } from "../logging/index.js";

const ANSWERS: Record<string, [status: number, reason: string, code: string, message: string]> = {
  HPE_HEADER_OVERFLOW: [
    431,
    "Request Header Fields Too Large",
    "headers_too_large",
    "Request headers are too large",
  ],
  ERR_HTTP_REQUEST_TIMEOUT: [408, "Request Timeout", "request_timeout", "The request took too long"],
};
const MALFORMED: [number, string, string, string] = [
  400,
  "Bad Request",
  "bad_request",
  "Malformed HTTP request",
];

/**
 * Answers requests Node's HTTP parser rejects before the app sees them (a header value with CR
 * or LF, oversized headers, ...) the way the app answers errors: JSON
 * `{ error, message, correlation_id }` with a fresh `X-Correlation-ID`, and one
 * `bad_http_request` line that names the parser's error code, never the raw bytes.
 *
 * @example
 * const server = serve({ fetch: app.fetch, port: settings.PORT });
 * handleClientErrors(server, { logger });
 */
export function handleClientErrors(server: ServerType, { logger }: { logger: Logger }): void {
  // HTTP/1 servers (what serve() makes by default) emit it; HTTP/2 ones never do.
  (server as Server).on("clientError", (err: NodeJS.ErrnoException, socket: Socket) => {
    if (err.code === "ECONNRESET" || !socket.writable || socket.bytesWritten > 0) {
      socket.destroy();
      return;
    }
    const id = newCorrelationId();
    const [status, reason, error, message] = (err.code && ANSWERS[err.code]) || MALFORMED;
    const body = JSON.stringify({ error, message, correlation_id: id });
    socket.end(
      `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `X-Correlation-ID: ${id}\r\nConnection: close\r\n\r\n${body}`,
    );
    withCorrelation(id, () => logger.warn({ reason: err.code, status_code: status }, "bad_http_request"));
  });
}
