import { AsyncResource } from "node:async_hooks";
import type { IncomingHttpHeaders } from "node:http";
import type { Duplex } from "node:stream";
import { context as otelContext, propagation, type TextMapSetter } from "@opentelemetry/api";
import type { Dispatcher, interceptors, Pool as UndiciPool } from "undici";
import { CORRELATION_HEADER, currentCorrelationId } from "../correlation/index.js";
import type { Logger } from "../logging/index.js";
import { Agent, Pool, retryInterceptor } from "./undici.js";

type OutboundHeaders = Record<string, string | string[]>;
type RetryOptions = NonNullable<Parameters<typeof interceptors.retry>[0]>;

export interface OutboundInterceptorOptions {
  /** Writes `outbound_request` and `outbound_request_failed`. */
  logger: Logger;
  /** The origin calls go to when the request options name none (a `Pool`'s own origin). */
  origin?: string;
}

export interface OutboundDispatcherOptions {
  logger: Logger;
  /** Most sockets per origin. Default 32. */
  connections?: number;
  /** Longest wait for the response headers, in ms. Default 10000. */
  headersTimeout?: number;
  /** Longest silence while the response body streams, in ms. Default 10000. */
  bodyTimeout?: number;
  /**
   * Retries by undici's `interceptors.retry` (exponential backoff; by default only idempotent
   * methods, on network errors and 429/500/502/503/504). Off unless given: whether a call may be
   * repeated is the caller's decision. Each logical call is logged once, with its final outcome.
   */
  retry?: RetryOptions;
}

// traceparent/tracestate never replace a value the caller set.
const keepExisting: TextMapSetter<OutboundHeaders> = {
  set(carrier, key, value) {
    carrier[key] ??= value;
  },
};

/**
 * An undici interceptor for every outgoing call: adds `x-correlation-id` from the current
 * context (unless the request sets one; outside any context none is invented), W3C
 * `traceparent`/`tracestate` through OpenTelemetry's propagator when one is registered, and logs
 * `outbound_request` (target = origin + path without query, method, status_code, duration_ms) or
 * `outbound_request_failed` (with err) in the caller's context, although undici's callbacks run
 * outside it.
 *
 * @example
 * const dispatcher = new Pool(origin).compose(outboundInterceptor({ logger, origin }));
 */
export function outboundInterceptor(
  options: OutboundInterceptorOptions,
): Dispatcher.DispatcherComposeInterceptor {
  const { logger, origin } = options;
  return (dispatch) =>
    function observedDispatch(opts, handler) {
      const headers = outboundHeaders(opts.headers, currentCorrelationId());
      const target = targetOf(opts.origin ?? origin, opts.path);
      return dispatch({ ...opts, headers }, new ObservedHandler(handler, logger, target, opts.method));
    };
}

/**
 * A keep-alive connection pool to one service (`baseUrl` is its origin), with
 * {@link outboundInterceptor}: the way one service calls another. Close it on shutdown.
 *
 * @example
 * const worker = createServiceClient(settings.WORKER_URL, { logger });
 * const { statusCode, body } = await worker.request({
 *   method: "POST",
 *   path: "/v1/notifications",
 *   headers: { "content-type": "application/json", authorization: `Bearer ${settings.WORKER_TOKEN}` },
 *   body: JSON.stringify(notification),
 * });
 * const created = await body.json();
 */
export function createServiceClient(baseUrl: string | URL, options: OutboundDispatcherOptions): Dispatcher {
  const url = new URL(baseUrl);
  if (url.pathname !== "/" || url.search) {
    throw new Error(`createServiceClient takes an origin such as http://worker:8081, not a URL with a path`);
  }
  const pool = new Pool(url.origin, timeouts(options));
  return pool.compose(interceptorsOf(options, url.origin));
}

/**
 * An undici `Agent` (keep-alive pools per origin) with {@link outboundInterceptor}, for calls to
 * any URL, such as a webhook. Pass it as `dispatcher`; close it on shutdown.
 *
 * @example
 * const outbound = createOutboundAgent({ logger });
 * const response = await request(settings.WEBHOOK_URL, { method: "POST", body, dispatcher: outbound });
 */
export function createOutboundAgent(options: OutboundDispatcherOptions): Dispatcher {
  return new Agent(timeouts(options)).compose(interceptorsOf(options));
}

function timeouts(options: OutboundDispatcherOptions): UndiciPool.Options {
  return {
    connections: options.connections ?? 32,
    headersTimeout: options.headersTimeout ?? 10_000,
    bodyTimeout: options.bodyTimeout ?? 10_000,
  };
}

function interceptorsOf(options: OutboundDispatcherOptions, origin?: string) {
  // The last interceptor runs first: it sees one logical call and retries happen beneath it.
  const observe = outboundInterceptor({ logger: options.logger, origin });
  return options.retry ? [retryInterceptor(options.retry), observe] : [observe];
}

function outboundHeaders(headers: Dispatcher.DispatchOptions["headers"], correlationId: string | undefined) {
  const out: OutboundHeaders = {};
  if (Array.isArray(headers)) {
    for (let i = 0; i + 1 < headers.length; i += 2) add(out, headers[i]!, headers[i + 1]!);
  } else if (headers && Symbol.iterator in headers) {
    for (const [name, value] of headers) if (value !== undefined) add(out, name, value);
  } else if (headers) {
    for (const name in headers) {
      const value = (headers as IncomingHttpHeaders)[name];
      if (value !== undefined) add(out, name, value);
    }
  }
  if (correlationId !== undefined) out[CORRELATION_HEADER] ??= correlationId;
  propagation.inject(otelContext.active(), out, keepExisting);
  return out;
}

function add(headers: OutboundHeaders, name: string, value: string | string[]): void {
  const key = name.toLowerCase();
  const existing = headers[key];
  headers[key] = existing === undefined ? value : [existing, value].flat();
}

function targetOf(origin: string | URL | undefined, path: string): string {
  const query = path.indexOf("?");
  const pathOnly = query === -1 ? path : path.slice(0, query);
  if (origin === undefined) return pathOnly;
  return (typeof origin === "string" ? origin.replace(/\/$/, "") : origin.origin) + pathOnly;
}

/** Passes every callback through, and logs the call's outcome once, in the caller's context. */
class ObservedHandler implements Dispatcher.DispatchHandler {
  readonly #handler: Dispatcher.DispatchHandler;
  readonly #logger: Logger;
  readonly #target: string;
  readonly #method: string;
  readonly #start = performance.now();
  readonly #callerContext = new AsyncResource("ward.outbound_request");
  #statusCode: number | undefined;
  #logged = false;

  constructor(handler: Dispatcher.DispatchHandler, logger: Logger, target: string, method: string) {
    this.#handler = handler;
    this.#logger = logger;
    this.#target = target;
    this.#method = method;
  }

  onRequestStart(controller: Dispatcher.DispatchController, context: unknown): void {
    this.#handler.onRequestStart?.(controller, context);
  }

  onRequestUpgrade(
    controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: IncomingHttpHeaders,
    socket: Duplex,
  ): void {
    this.#statusCode = statusCode;
    this.#log();
    this.#handler.onRequestUpgrade?.(controller, statusCode, headers, socket);
  }

  onResponseStart(
    controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: IncomingHttpHeaders,
    statusMessage?: string,
  ): void {
    this.#statusCode = statusCode;
    this.#handler.onResponseStart?.(controller, statusCode, headers, statusMessage);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.#handler.onResponseData?.(controller, chunk);
  }

  onResponseEnd(controller: Dispatcher.DispatchController, trailers: IncomingHttpHeaders): void {
    this.#log();
    this.#handler.onResponseEnd?.(controller, trailers);
  }

  onResponseError(controller: Dispatcher.DispatchController, error: Error): void {
    this.#log(error);
    this.#handler.onResponseError?.(controller, error);
  }

  #log(err?: Error): void {
    if (this.#logged) return;
    this.#logged = true;
    const line = {
      target: this.#target,
      method: this.#method,
      status_code: this.#statusCode,
      duration_ms: Math.round((performance.now() - this.#start) * 10) / 10,
      err,
    };
    this.#callerContext.runInAsyncScope(() => {
      if (err) this.#logger.warn(line, "outbound_request_failed");
      else if ((this.#statusCode ?? 0) >= 500) this.#logger.warn(line, "outbound_request");
      else this.#logger.info(line, "outbound_request");
    });
  }
}
