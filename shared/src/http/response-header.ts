import type { OutgoingHttpHeaders, ServerResponse } from "node:http";
import type { Context } from "hono";

type Headers = OutgoingHttpHeaders | readonly unknown[];
type WriteHead = (status: number, reason?: string | Headers, headers?: Headers) => unknown;

/**
 * Sets a header (`name` in lower case) on the response that leaves, whatever the route returned,
 * replacing any the response brings of its own. Under @hono/node-server it joins the headers the
 * adapter hands to Node's `writeHead`: going through `c.res.headers` instead turns the adapter's
 * light response into a full `Response` with a `Headers` object (what that costs: bench/README.md,
 * "What changed, and what it bought").
 */
export function setResponseHeader(c: Context, name: string, value: string): void {
  const outgoing = (c.env as { outgoing?: ServerResponse } | undefined)?.outgoing;
  if (outgoing && !outgoing.headersSent) {
    const writeHead = outgoing.writeHead.bind(outgoing) as WriteHead;
    (outgoing as { writeHead: WriteHead }).writeHead = (status, reason, headers) =>
      typeof reason === "string"
        ? writeHead(status, reason, withHeader(outgoing, headers, name, value))
        : writeHead(status, withHeader(outgoing, reason, name, value));
    return;
  }
  try {
    c.res.headers.set(name, value);
  } catch {
    // A Response from fetch() has immutable headers; the `c.res` setter copies it.
    c.res = new Response(c.res.body, c.res);
    c.res.headers.set(name, value);
  }
}

/** A copy of `headers` with `name` set to `value`, in place of any spelling of it already there. */
function withHeader(
  response: ServerResponse,
  headers: Headers | undefined,
  name: string,
  value: string,
): Headers {
  if (Array.isArray(headers)) {
    // Raw header lists: the adapter never passes one; Node merges them with set headers.
    response.setHeader(name, value);
    return headers as Headers;
  }
  const own = headers as OutgoingHttpHeaders | undefined;
  const merged: OutgoingHttpHeaders = {};
  for (const key in own) {
    if (key.length !== name.length || key.toLowerCase() !== name) merged[key] = own[key];
  }
  merged[name] = value;
  return merged;
}
