import { createRequire } from "node:module";
import pino, { type DestinationStream, type Logger, type LevelWithSilent } from "pino";
import type { PinoPretty } from "pino-pretty";
import { currentContext } from "../correlation/index.js";
import { batchedStdout } from "./destination.js";
import { redactSensitive, secretScrubber } from "./redaction.js";

export type { Logger } from "pino";
export { REDACTED, secretScrubber } from "./redaction.js";
export { createFailureLog, type FailureLog, type FailureLogOptions } from "./failure-log.js";

export type LogLevel = "debug" | "info" | "warn" | "error" | "fatal";

export interface LoggerOptions {
  /** `service` field of every line, e.g. "gateway". */
  service: string;
  /** `version` field of every line. */
  version: string;
  /** `env` field of every line (the ENVIRONMENT setting). */
  environment: string;
  /** Lines below this level are dropped. Default "info". */
  level?: LogLevel | LevelWithSilent;
  /** "json" (one object per line, the default) or "pretty" (for people, in development). */
  format?: "json" | "pretty";
  /** Live values of the secret settings: scrubbed from every line, wherever they appear. */
  secrets?: readonly string[];
  /** Where lines go. Default: stdout, written once per turn of the event loop and on exit. */
  destination?: DestinationStream;
}

const NO_CONTEXT = {};
const ERROR_KEY = "err";

// pino-pretty takes ~30 ms to load: only processes that print for people (LOG_FORMAT=pretty) pay it.
function prettyStream(): DestinationStream {
  const pretty = createRequire(import.meta.url)("pino-pretty") as { PinoPretty: typeof PinoPretty };
  return pretty.PinoPretty({
    messageKey: "event",
    timestampKey: "ts",
    translateTime: "SYS:HH:MM:ss.l",
    sync: true,
  });
}

/** pino's error serializer (type, message, stack, causes), then the sensitive keys of the result. */
function serializeError(err: Error): unknown {
  const serialized: unknown = pino.stdSerializers.err(err);
  return typeof serialized === "object" && serialized !== null ? redactSensitive(serialized, 1) : serialized;
}

// One ISO string per millisecond, however many lines share it.
let lastMs = NaN;
let lastTs = "";
function timestamp(): string {
  const now = Date.now();
  if (now !== lastMs) {
    lastMs = now;
    lastTs = `,"ts":"${new Date(now).toISOString()}"`;
  }
  return lastTs;
}

/**
 * The one logger of a service: JSON lines on stdout with `ts`, `level`, `service`, `version`,
 * `env`, `event` and the fields of the current request or job context (`correlation_id`,
 * `user_id`, ...). Sensitive keys and the live values of secrets never reach the output.
 * The message argument is the line's `event`.
 *
 * @example
 * const logger = createLogger({ service: "gateway", version: "1.0.0", environment: "production" });
 * logger.info({ task_id: task.id }, "task_created");
 */
export function createLogger(options: LoggerOptions): Logger {
  const scrub = secretScrubber(options.secrets ?? []);
  const destination = options.destination ?? (options.format === "pretty" ? prettyStream() : batchedStdout());
  const logger = pino(
    {
      level: options.level ?? "info",
      messageKey: "event",
      base: { service: options.service, version: options.version, env: options.environment },
      timestamp,
      formatters: {
        level: (label) => ({ level: label }),
        // Sensitive keys are found by name, in one pass over the line's fields and the objects
        // below them: pino's wildcard redact paths cost ten times the rest of the line.
        log: (fields) => redactSensitive(fields, 0, ERROR_KEY),
      },
      serializers: { [ERROR_KEY]: serializeError },
      mixin: () => currentContext() ?? NO_CONTEXT,
      // pino's default strategy writes into the mixin object, which here is the live context.
      // Object.assign, as a two-object spread costs several microseconds per line under V8.
      mixinMergeStrategy: (fields, context) => Object.assign({}, context, fields),
      hooks: { streamWrite: scrub },
    },
    destination,
  );
  // A child's bindings are serialized once, when it is made, and never pass the formatters.
  // Children inherit this method, so their own children are covered too.
  // eslint-disable-next-line @typescript-eslint/unbound-method -- called below with each logger as `this`
  const child = logger.child;
  logger.child = function (this: Logger, bindings, childOptions) {
    return child.call(this, redactSensitive(bindings), childOptions);
  } as Logger["child"];
  return logger;
}
