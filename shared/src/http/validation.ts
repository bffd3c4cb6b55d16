/**
 * The `defaultHook` of every OpenAPIHono: a request that fails its zod schema is thrown to the
 * shared error handler, which answers 400 `validation_failed` with a `details` entry per field,
 * the same shape as every other error.
 *
 * @example
 * const routes = new OpenAPIHono({ defaultHook: rejectInvalidRequest });
 */
export function rejectInvalidRequest(
  result: { success: true } | { success: false; error: Error },
): undefined {
  if (!result.success) throw result.error;
}
