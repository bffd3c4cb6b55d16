export { serveApiDocs, type ApiDocsOptions } from "./api-docs.js";
export { bodySizeLimit } from "./body-size-limit.js";
export { correlation, type CorrelationOptions } from "./correlation.js";
export { errorHandler, notFoundHandler, type ErrorBody } from "./error-handler.js";
export { useObservability, type ObservabilityOptions } from "./observability.js";
export {
  createOutboundAgent,
  createServiceClient,
  outboundInterceptor,
  type OutboundDispatcherOptions,
  type OutboundInterceptorOptions,
} from "./outbound.js";
export { requestLogging, type RequestLoggingOptions } from "./request-logging.js";
export { handleClientErrors } from "./client-errors.js";
export { serveHttp, type ServeHttpOptions } from "./serve.js";
export { rejectInvalidRequest } from "./validation.js";
