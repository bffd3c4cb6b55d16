import { describe, expect, it } from "vitest";
import { LogCapture } from "../testing/index.js";
import { createFailureLog } from "./failure-log.js";
import { createLogger } from "./index.js";

function capture() {
  const logs = new LogCapture();
  const logger = createLogger({ service: "test", version: "test", environment: "test", destination: logs });
  return { logs, logger };
}

describe("createFailureLog", () => {
  it("logs once when it starts failing and once when it recovers, not on every attempt", () => {
    const { logs, logger } = capture();
    const log = createFailureLog(logger, {
      failed: "poll_failed",
      recovered: "poll_recovered",
      fields: { poll: "p" },
    });
    log.succeeded();
    log.failed(new Error("down"));
    log.failed(new Error("still down"));
    expect(log.failing).toBe(true);
    log.succeeded();
    log.succeeded();
    expect(logs.lines.map((line) => [line.level, line.event, line.poll])).toEqual([
      ["warn", "poll_failed", "p"],
      ["info", "poll_recovered", "p"],
    ]);
    expect(logs.lines[0]).toMatchObject({ err: { message: "down" } });
  });

  it("logs again when the failure changes reason, at the level asked for", () => {
    const { logs, logger } = capture();
    const log = createFailureLog(logger, { failed: "check_failed", recovered: "check_ok", level: "error" });
    log.failed(new Error("a"), { result: "timeout" }, "timeout");
    log.failed(new Error("b"), { result: "timeout" }, "timeout");
    log.failed(new Error("c"), { result: "refused" }, "refused");
    expect(logs.lines.map((line) => [line.level, line.result])).toEqual([
      ["error", "timeout"],
      ["error", "refused"],
    ]);
  });

  it("with announceFirst, logs the first success too", () => {
    const { logs, logger } = capture();
    const log = createFailureLog(logger, { failed: "gone", recovered: "connected", announceFirst: true });
    log.succeeded();
    log.succeeded();
    expect(logs.lines.map((line) => line.event)).toEqual(["connected"]);
  });
});
