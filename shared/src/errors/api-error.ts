/** One field-level problem of a rejected request, e.g. `{ path: "title", message: "Required" }`. */
export interface ErrorDetail {
  path: string;
  message: string;
}

/**
 * An error domain code throws to answer with a given status, a stable snake_case `code` and a
 * message meant for the caller. The HTTP error handler turns it into
 * `{ error: code, message, correlation_id, details? }`; a status of 500 or more is also reported.
 *
 * @example
 * throw new ApiError(404, "task_not_found", `No task ${id} in this organisation`);
 */
export class ApiError extends Error {
  override readonly name = "ApiError";

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    options?: { details?: readonly ErrorDetail[]; cause?: unknown },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.details = options?.details;
  }

  /** Field-level problems, for validation errors. */
  readonly details: readonly ErrorDetail[] | undefined;
}
