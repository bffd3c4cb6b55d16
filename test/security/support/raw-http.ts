/**
 * HTTP/1.1 by hand over a TCP socket, for what no HTTP client will send: invalid UTF-8, CR or LF
 * inside a header, malformed request lines, smuggling attempts.
 */
import { connect } from "node:net";

/** What came back on the socket. `status` is undefined when nothing parseable came back. */
export interface RawAnswer {
  status: number | undefined;
  /** Header names in lower case; a repeated header keeps its values joined by ", ". */
  headers: Record<string, string>;
  /** Every header line as sent, in order, for checking nothing was injected. */
  headerLines: string[];
  body: string;
  /** All the bytes received. */
  raw: Buffer;
}

export interface SendOptions {
  /** End our side after writing, as a client that gives up would: for requests cut short. Default false. */
  halfClose?: boolean;
  /** Stop waiting after this long. Default 5000. */
  timeoutMs?: number;
}

/**
 * Writes `request` to `port` on loopback and collects the answer until the server closes the
 * connection or `timeoutMs` passes. Only the first final response is parsed.
 *
 * @example
 * const answer = await sendRaw(port, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
 */
export function sendRaw(
  port: number,
  request: string | Buffer,
  { halfClose = false, timeoutMs = 5000 }: SendOptions = {},
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect({ port, host: "127.0.0.1", allowHalfOpen: true });
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(parseAnswer(Buffer.concat(chunks)));
    };
    const timer = setTimeout(finish, timeoutMs);
    socket.on("data", (chunk: Buffer) => {
      chunks.push(chunk);
      // A kept-alive connection stays open after the answer: stop once one is complete.
      if (isComplete(Buffer.concat(chunks))) finish();
    });
    socket.on("end", finish);
    socket.on("close", finish);
    // The server may answer and close before reading everything: that is an answer, not a failure.
    socket.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "ECONNRESET" || error.code === "EPIPE") finish();
      else reject(error);
    });
    socket.write(request, () => {
      if (halfClose) socket.end();
    });
  });
}

/**
 * A well-formed request with `Connection: close`, so the answer ends with the connection.
 *
 * @example
 * await sendRaw(port, httpRequest("POST", "/api/v1/tasks", { authorization: "Bearer x" }, body));
 */
export function httpRequest(
  method: string,
  path: string,
  headers: Record<string, string | Buffer> = {},
  body?: string | Buffer,
): Buffer {
  const lines: Buffer[] = [
    Buffer.from(`${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n`),
  ];
  for (const [name, value] of Object.entries(headers)) {
    lines.push(Buffer.concat([Buffer.from(`${name}: `), Buffer.from(value), Buffer.from("\r\n")]));
  }
  if (body !== undefined) lines.push(Buffer.from(`Content-Length: ${Buffer.byteLength(body)}\r\n`));
  lines.push(Buffer.from("\r\n"));
  if (body !== undefined) lines.push(Buffer.from(body));
  return Buffer.concat(lines);
}

/** The bytes after an interim "100 Continue", which precedes the real answer. */
function finalAnswer(received: Buffer): Buffer {
  return /^HTTP\/1\.1 100 [^\r]*\r\n\r\n/.test(received.toString("latin1", 0, 64))
    ? received.subarray(received.indexOf("\r\n\r\n") + 4)
    : received;
}

/** Whether `received` holds a whole final answer: its head, and a body as long as it says. */
function isComplete(received: Buffer): boolean {
  const raw = finalAnswer(received);
  const end = raw.indexOf("\r\n\r\n");
  if (end === -1 || !raw.subarray(0, 5).equals(Buffer.from("HTTP/"))) return false;
  const head = raw.subarray(0, end).toString("latin1");
  if (/^HTTP\/1\.1 100 /.test(head)) return false;
  const length = /\r\ncontent-length: *(\d+)/i.exec(head)?.[1];
  if (length !== undefined) return raw.length - end - 4 >= Number(length);
  if (/\r\ntransfer-encoding: *chunked/i.test(head)) return raw.subarray(end).includes("\r\n0\r\n\r\n");
  return false;
}

function parseAnswer(received: Buffer): RawAnswer {
  const raw = finalAnswer(received);
  const text = raw.toString("latin1");
  const end = text.indexOf("\r\n\r\n");
  const head = end === -1 ? text : text.slice(0, end);
  const [statusLine = "", ...headerLines] = head.split("\r\n");
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1];
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  // latin1 maps each byte to one character, so offsets in `text` are offsets in `raw`.
  let body = end === -1 ? Buffer.alloc(0) : raw.subarray(end + 4);
  if (headers["transfer-encoding"]?.includes("chunked")) body = unchunk(body);
  const code = status === undefined ? undefined : Number(status);
  return { status: code, headers, headerLines, body: body.toString("utf8"), raw };
}

function unchunk(body: Buffer): Buffer {
  const parts: Buffer[] = [];
  let rest = body;
  for (;;) {
    const lineEnd = rest.indexOf("\r\n");
    if (lineEnd === -1) break;
    const size = parseInt(rest.subarray(0, lineEnd).toString("latin1"), 16);
    if (!size) break;
    parts.push(rest.subarray(lineEnd + 2, lineEnd + 2 + size));
    rest = rest.subarray(lineEnd + 2 + size + 2);
  }
  return Buffer.concat(parts);
}
