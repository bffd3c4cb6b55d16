import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { getRequestListener, type ServerType } from "@hono/node-server";
import { newCorrelationId, withCorrelation } from "../correlation/index.js";
import { reportError } from "../errors/index.js";
import type { Logger } from "../logging/index.js";
import { handleClientErrors } from "./client-errors.js";

export interface ServeHttpOptions {
  port: number;
  /** The address to listen on. Default: every interface. */
  hostname?: string;
  /** Writes `bad_http_request` for what never reaches the app. */
  logger: Logger;
}

/** What the app's `fetch` looks like to the Node adapter. */
type Fetch = Parameters<typeof getRequestListener>[0];

/**
 * `serve()` of @hono/node-server, with every request that never reaches the app answered the way
 * the app answers errors (JSON `{ error, message, correlation_id }` and an `X-Correlation-ID`)
 * and logged once as `bad_http_request`: what Node's parser refuses (see
 * {@link handleClientErrors}), and a request line or Host the adapter cannot make a URL of
 * (no Host, `OPTIONS *`, a backslash in the path), which it would answer with a bare 400.
 *
 * @example
 * const server = serveHttp(app, { port: settings.PORT, logger }, ({ port }) =>
 *   logger.info({ port }, "server_listening"),
 * );
 */
export function serveHttp(
  app: { fetch: Fetch },
  { port, hostname, logger }: ServeHttpOptions,
  onListening?: (address: AddressInfo) => void,
): ServerType {
  const listener = getRequestListener(app.fetch, {
    errorHandler: (error) => {
      const id = newCorrelationId();
      // Only the adapter's RequestError means the request was unusable; anything else is ours.
      const refused = error instanceof Error && error.name === "RequestError";
      withCorrelation(id, () => {
        if (refused) logger.warn({ reason: "INVALID_REQUEST_TARGET", status_code: 400 }, "bad_http_request");
        else {
          logger.error({ status_code: 500, err: error }, "request_failed");
          reportError(error);
        }
      });
      const [status, code, message] = refused
        ? [400, "bad_request", "Malformed HTTP request"]
        : [500, "internal_error", "Internal server error"];
      return new Response(JSON.stringify({ error: code, message, correlation_id: id }), {
        status,
        headers: { "content-type": "application/json", "x-correlation-id": id, connection: "close" },
      });
    },
  });
  // Node answers a request without Host with a bare 400 of its own; the adapter refuses it too, in JSON.
  const server = createServer({ requireHostHeader: false }, (req, res) => void listener(req, res));
  handleClientErrors(server, { logger });
  server.listen(port, hostname, () => onListening?.(server.address() as AddressInfo));
  return server;
}
