import type { Context, ErrorHandler, NotFoundHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { currentCorrelationId } from "../correlation/index.js";
import { ApiError, reportError, type ErrorDetail } from "../errors/index.js";
import { isDatabaseUnavailable } from "../postgres/unavailable.js";

/** The body of every error response. */
export interface ErrorBody {
  /** Stable snake_case code, e.g. `not_found`, `validation_failed`, `internal_error`. */
  error: string;
  /** For people; never an internal error's own message. */
  message: string;
  correlation_id: string;
  /** Field-level problems of a rejected request. */
  details?: ErrorDetail[];
}

const CODES: Record<number, [code: string, message: string]> = {
  400: ["bad_request", "The request is malformed"],
  401: ["unauthorized", "Authentication is required"],
  403: ["forbidden", "Not allowed"],
  404: ["not_found", "Not found"],
  405: ["method_not_allowed", "Method not allowed"],
  406: ["not_acceptable", "Not acceptable"],
  408: ["request_timeout", "The request took too long"],
  409: ["conflict", "Conflict with the current state"],
  410: ["gone", "Gone"],
  411: ["length_required", "Content-Length is required"],
  413: ["payload_too_large", "The request body is too large"],
  415: ["unsupported_media_type", "Unsupported media type"],
  422: ["unprocessable_entity", "The request cannot be processed"],
  429: ["too_many_requests", "Too many requests"],
  500: ["internal_error", "Internal server error"],
  501: ["not_implemented", "Not implemented"],
  502: ["bad_gateway", "An upstream service failed"],
  503: ["service_unavailable", "Service unavailable"],
  504: ["gateway_timeout", "An upstream service timed out"],
};

interface Answer {
  status: ContentfulStatusCode;
  body: Omit<ErrorBody, "correlation_id">;
  headers?: Headers;
}

/**
 * The app's `onError`: answers JSON `{ error, message, correlation_id, details? }`.
 * `ApiError` and Hono's `HTTPException` keep their status (and an HTTPException's response
 * headers, such as `WWW-Authenticate`); zod errors are 400 `validation_failed` with field
 * `details`; a body that is not JSON is 400 `invalid_json`; PostgreSQL out of reach is 503
 * `service_unavailable`; anything else is 500
 * `internal_error` with a generic message. 5xx are reported to Sentry, 4xx are not.
 * Logging is left to the request logging middleware (`request_failed` carries the error).
 *
 * @example
 * app.onError(errorHandler());
 */
export function errorHandler(): ErrorHandler {
  return (err, c) => {
    const answer = answerFor(err, c);
    if (answer.status >= 500) reportError(err);
    return respond(c, answer);
  };
}

/**
 * The app's `notFound`: 404 JSON `{ error: "not_found", message, correlation_id }`.
 *
 * @example
 * app.notFound(notFoundHandler);
 */
export const notFoundHandler: NotFoundHandler = (c) =>
  respond(c, { status: 404, body: { error: "not_found", message: "No such route" } });

function respond(c: Context, { status, body, headers }: Answer): Response {
  const response = c.json(
    { ...body, correlation_id: currentCorrelationId() ?? "" } satisfies ErrorBody,
    status,
  );
  headers?.forEach((value, name) => {
    if (name !== "content-type" && name !== "content-length") response.headers.set(name, value);
  });
  return response;
}

function answerFor(err: Error, c: Context): Answer {
  if (err instanceof ApiError) {
    const status = validStatus(err.status);
    const body = { error: err.code, message: err.message, ...(err.details && { details: [...err.details] }) };
    return { status, body };
  }
  if (err instanceof HTTPException) {
    const status = validStatus(err.status);
    const [error, fallback] = CODES[status] ?? codeOf(status);
    return { status, body: { error, message: err.message || fallback }, headers: err.res?.headers };
  }
  if (isZodError(err)) {
    const details = err.issues.map((issue) => ({
      path: issue.path.map(String).join("."),
      message: issue.message,
    }));
    return { status: 400, body: { error: "validation_failed", message: "The request is invalid", details } };
  }
  if (isDatabaseUnavailable(err)) {
    // An outage, not a bug: the caller may try again (and readiness already says so).
    const message = "A service this request needs is unavailable; try again shortly";
    return { status: 503, body: { error: "service_unavailable", message } };
  }
  if (err instanceof SyntaxError && ("text" in c.req.bodyCache || "json" in c.req.bodyCache)) {
    // The route read the body and JSON.parse rejected it: the caller's mistake, not ours.
    return { status: 400, body: { error: "invalid_json", message: "The request body is not valid JSON" } };
  }
  return { status: 500, body: { error: "internal_error", message: "Internal server error" } };
}

function validStatus(status: number): ContentfulStatusCode {
  return Number.isInteger(status) && status >= 400 && status <= 599 ? (status as ContentfulStatusCode) : 500;
}

function codeOf(status: number): [string, string] {
  return status >= 500
    ? ["internal_error", "Internal server error"]
    : ["bad_request", "The request was rejected"];
}

interface ZodLikeError extends Error {
  issues: { path: PropertyKey[]; message: string }[];
}

/** zod 3 and 4 (classic and mini) errors alike, without tying this module to one zod build. */
function isZodError(err: Error): err is ZodLikeError {
  return err.name === "ZodError" && Array.isArray((err as Partial<ZodLikeError>).issues);
}
