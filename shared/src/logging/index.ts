import pino, { type DestinationStream, type Logger, type LevelWithSilent } from "pino";
import pretty from "pino-pretty";
import { currentContext } from "../correlation/index.js";
import { REDACTED, secretScrubber, sensitivePaths } from "./redaction.js";

export type { Logger } from "pino";
export { REDACTED, secretScrubber } from "./redaction.js";

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
  /** Where lines go. Default: stdout. */
  destination?: DestinationStream;
}

const NO_CONTEXT = {};

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
  const destination =
    options.destination ??
    (options.format === "pretty"
      ? pretty({ messageKey: "event", timestampKey: "ts", translateTime: "SYS:HH:MM:ss.l", sync: true })
      : pino.destination({ dest: 1, sync: true }));
  return pino(
    {
      level: options.level ?? "info",
      messageKey: "event",
      base: { service: options.service, version: options.version, env: options.environment },
      timestamp: () => `,"ts":"${new Date().toISOString()}"`,
      formatters: { level: (label) => ({ level: label }) },
      mixin: () => currentContext() ?? NO_CONTEXT,
      // pino's default strategy writes into the mixin object, which here is the live context.
      mixinMergeStrategy: (fields, context) => ({ ...context, ...fields }),
      redact: { paths: sensitivePaths, censor: REDACTED },
      hooks: { streamWrite: scrub },
    },
    destination,
  );
}
