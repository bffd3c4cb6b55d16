export { ApiError, type ErrorDetail } from "./api-error.js";
export { isSentryDsn } from "./dsn.js";
export {
  flushErrors,
  initSentry,
  initSentryFromEnv,
  reportError,
  SECRET_SETTINGS,
  withErrorScope,
  type SentryOptions,
} from "./sentry.js";
