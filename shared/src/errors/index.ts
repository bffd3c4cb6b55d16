export { ApiError, type ErrorDetail } from "./api-error.js";
export {
  flushErrors,
  initSentry,
  initSentryFromEnv,
  reportError,
  SECRET_SETTINGS,
  withErrorScope,
  type SentryOptions,
} from "./sentry.js";
