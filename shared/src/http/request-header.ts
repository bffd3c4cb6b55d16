import type { IncomingHttpHeaders } from "node:http";
import type { Context } from "hono";

/** Node's parsed request headers under @hono/node-server, else undefined. */
export function nodeHeaders(c: Context): IncomingHttpHeaders | undefined {
  return (c.env as { incoming?: { headers: IncomingHttpHeaders } } | undefined)?.incoming?.headers;
}

/**
 * One request header (`name` in lower case). Under @hono/node-server it reads Node's parsed
 * headers directly: `c.req.header()` would first build a whole `Headers` copy of the request.
 */
export function requestHeader(c: Context, name: string): string | undefined {
  const headers = nodeHeaders(c);
  if (!headers) return c.req.header(name);
  const value = headers[name];
  return Array.isArray(value) ? value.join(", ") : value;
}
