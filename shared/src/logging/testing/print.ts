/**
 * Writes two log lines to stdout the way a service does, for tests that read a real process's
 * output: `node --conditions=source --import tsx print.ts`. Environment: LOG_FORMAT, SECRET, and
 * THEN (`exit`: process.exit(3) right after the lines; `throw`: an uncaught exception).
 */
import { createLogger } from "../index.js";

const format = process.env.LOG_FORMAT === "pretty" ? "pretty" : "json";
const secret = process.env.SECRET ?? "change-me-unset";
const logger = createLogger({
  service: "printer",
  version: "0.0.0",
  environment: "test",
  format,
  secrets: [secret],
});
logger.info({ task_id: "t1" }, "task_created");
logger.error({ err: new Error(`failed with ${secret}`) }, "task_failed");
if (process.env.THEN === "exit") process.exit(3);
if (process.env.THEN === "throw") throw new Error("crashed after logging");
