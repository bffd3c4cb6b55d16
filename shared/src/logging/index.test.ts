import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { bindContext, withCorrelation } from "../correlation/index.js";
import { capturedLogger } from "../testing/http.js";
import { startProcess } from "../testing/index.js";
import { REDACTED } from "./index.js";

describe("log line fields", () => {
  it("carries every field of the contract, with the right types", () => {
    const { logger, lines } = capturedLogger();
    withCorrelation("req-1", () => logger.info({ status_code: 201, duration_ms: 12.5 }, "request_completed"));
    const { ts, ...rest } = lines[0] ?? {};
    expect(typeof ts).toBe("string");
    expect(rest).toEqual({
      level: "info",
      service: "gateway",
      version: "1.2.3",
      env: "test",
      event: "request_completed",
      correlation_id: "req-1",
      status_code: 201,
      duration_ms: 12.5,
    });
  });

  it("writes ts as ISO 8601 in UTC, with milliseconds", () => {
    const { logger, lines } = capturedLogger();
    const before = Date.now();
    logger.info("tick");
    const ts = lines[0]?.ts as string;
    expect(ts).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(Date.parse(ts)).toBeGreaterThanOrEqual(before - 1);
  });

  it("writes every level as a word", () => {
    const { logger, lines } = capturedLogger({ level: "debug" });
    logger.debug("a");
    logger.info("b");
    logger.warn("c");
    logger.error("d");
    logger.fatal("e");
    expect(lines.map((line) => line.level)).toEqual(["debug", "info", "warn", "error", "fatal"]);
  });

  it("has no correlation_id outside a request or job", () => {
    const { logger, lines } = capturedLogger();
    logger.info("config_loaded");
    expect(lines[0]).not.toHaveProperty("correlation_id");
  });

  it("serializes an error with its type, message and stack", () => {
    const { logger, lines } = capturedLogger();
    logger.error({ err: new TypeError("bad input") }, "request_failed");
    const err = lines[0]?.err as { type: string; message: string; stack: string };
    expect([err.type, err.message]).toEqual(["TypeError", "bad input"]);
    expect(err.stack).toContain("TypeError: bad input\n    at ");
  });
});

describe("LOG_LEVEL", () => {
  it("drops lines below the level", () => {
    const { logger, lines } = capturedLogger({ level: "warn" });
    logger.debug("a");
    logger.info("b");
    logger.warn("c");
    logger.error("d");
    expect(lines.map((line) => line.event)).toEqual(["c", "d"]);
  });

  it("is info by default", () => {
    const { logger, lines } = capturedLogger();
    logger.debug("hidden");
    logger.info("shown");
    expect(lines.map((line) => line.event)).toEqual(["shown"]);
  });

  it("applies to child loggers", () => {
    const { logger, lines } = capturedLogger({ level: "error" });
    logger.child({ component: "queue" }).warn("hidden");
    expect(lines).toEqual([]);
  });
});

describe("context fields", () => {
  it("land on every line without being passed", async () => {
    const { logger, lines } = capturedLogger();
    const deepInTheCode = async () => {
      await Promise.resolve();
      logger.info({ task_id: "t1" }, "task_created");
    };
    await withCorrelation("req-1", async () => {
      bindContext({ user_id: "u1", org_id: "o1" });
      await deepInTheCode();
    });
    expect(lines[0]).toMatchObject({ correlation_id: "req-1", user_id: "u1", org_id: "o1", task_id: "t1" });
  });

  it("stay apart between concurrent requests", async () => {
    const { logger, lines } = capturedLogger();
    await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        withCorrelation(`req-${i}`, async () => {
          bindContext({ user_id: `u${i}` });
          await new Promise((resolve) => setTimeout(resolve, Math.random() * 5));
          logger.info("step");
        }),
      ),
    );
    for (const line of lines) {
      expect(String(line.user_id).slice(1)).toBe(String(line.correlation_id).slice(4));
    }
    expect(lines).toHaveLength(100);
  });

  it("are not polluted by the fields of one log call", () => {
    const { logger, lines } = capturedLogger();
    withCorrelation("req-1", () => {
      logger.info({ task_id: "t1" }, "first");
      logger.info("second");
    });
    expect(lines[1]).not.toHaveProperty("task_id");
  });
});

describe("known sensitive keys", () => {
  it("are redacted at the top level", () => {
    const { logger, lines } = capturedLogger();
    logger.info({ password: "hunter2-top", token: "tok-top", authorization: "Bearer top" }, "login");
    expect(lines[0]).toMatchObject({ password: REDACTED, token: REDACTED, authorization: REDACTED });
  });

  it("are redacted one object deep", () => {
    const { logger, lines } = capturedLogger();
    logger.info(
      { headers: { authorization: "Bearer one", cookie: "sid=one", "x-api-key": "key-one", accept: "*/*" } },
      "call",
    );
    expect(lines[0]?.headers).toEqual({
      authorization: REDACTED,
      cookie: REDACTED,
      "x-api-key": REDACTED,
      accept: "*/*",
    });
  });

  it("are redacted two objects deep", () => {
    const { logger, lines } = capturedLogger();
    logger.info({ req: { headers: { cookie: "sid=two", "set-cookie": "sid=two" }, body: { a: 1 } } }, "call");
    expect(lines[0]?.req).toEqual({
      headers: { cookie: REDACTED, "set-cookie": REDACTED },
      body: REDACTED,
    });
  });

  it("are redacted when a header name is written in title case", () => {
    const { logger, text } = capturedLogger();
    logger.info({ headers: { Authorization: "Bearer title-case-value", Cookie: "sid=title" } }, "call");
    expect(text()).not.toContain("title-case-value");
    expect(text()).not.toContain("sid=title");
  });

  it("are redacted in context fields too", () => {
    const { logger, lines } = capturedLogger();
    withCorrelation("req-1", () => logger.info("step"), { token: "tok-context" });
    expect(lines[0]?.token).toBe(REDACTED);
  });

  it("are redacted two objects deep inside an array", () => {
    const { logger, lines } = capturedLogger();
    logger.info({ attempts: [{ token: "tok-array", n: 1 }] }, "call");
    expect(lines[0]?.attempts).toEqual([{ token: REDACTED, n: 1 }]);
  });

  it("are redacted whatever their letter case", () => {
    const { logger, text } = capturedLogger();
    logger.info(
      { PASSWORD: "upper-pw", headers: { "X-API-KEY": "upper-key", COOKIE: "upper-cookie" } },
      "call",
    );
    expect(text()).not.toMatch(/upper-(pw|key|cookie)/);
  });

  it("are redacted in an error's own fields, keeping its type, message and stack", () => {
    const { logger, lines } = capturedLogger();
    const err = Object.assign(new TypeError("upstream refused"), {
      token: "tok-err",
      headers: { authorization: "Bearer err-two" },
    });
    logger.error({ err }, "call_failed");
    expect(lines[0]?.err).toMatchObject({
      type: "TypeError",
      message: "upstream refused",
      stack: expect.stringContaining("TypeError: upstream refused") as unknown,
      token: REDACTED,
      headers: { authorization: REDACTED },
    });
  });

  it("are redacted when an error is logged on its own", () => {
    const { logger, lines } = capturedLogger();
    logger.error(Object.assign(new Error("refused"), { password: "pw-alone" }));
    expect(lines[0]?.err).toMatchObject({ message: "refused", password: REDACTED });
  });

  it("are redacted in a child logger's bindings, and its children's", () => {
    const { logger, lines } = capturedLogger();
    const child = logger.child({ token: "tok-binding", client: { secret: "cs-binding" } });
    child.child({ job: { password: "pw-grandchild" } }).info("step");
    expect(lines[0]).toMatchObject({
      token: REDACTED,
      client: { secret: REDACTED },
      job: { password: REDACTED },
    });
  });

  it("leave the logged objects as they were", () => {
    const { logger } = capturedLogger();
    const fields = { req: { headers: { cookie: "sid=kept", accept: "text/plain" } }, password: "pw-kept" };
    logger.info(fields, "call");
    expect(fields).toEqual({
      req: { headers: { cookie: "sid=kept", accept: "text/plain" } },
      password: "pw-kept",
    });
  });

  it("are redacted on child loggers", () => {
    const { logger, lines } = capturedLogger();
    logger.child({ component: "auth" }).info({ client_secret: "cs-child" }, "step");
    expect(lines[0]?.client_secret).toBe(REDACTED);
  });
});

describe("live secret values", () => {
  const secret = "change-me-live-secret-0123456789abcdef";

  it("are scrubbed inside the event and any string field", () => {
    const { logger, text } = capturedLogger({ secrets: [secret] });
    logger.info({ note: `the key is ${secret}!` }, `calling with ${secret}`);
    expect(text()).not.toContain(secret);
    expect(text()).toContain(`the key is ${REDACTED}!`);
  });

  it("are scrubbed from an error's message and stack", () => {
    const { logger, lines, text } = capturedLogger({ secrets: [secret] });
    logger.error({ err: new Error(`connect failed with ${secret}`) }, "request_failed");
    expect(text()).not.toContain(secret);
    const err = lines[0]?.err as { message: string; stack: string };
    expect(err.message).toBe(`connect failed with ${REDACTED}`);
    expect(err.stack).toContain(`connect failed with ${REDACTED}`);
  });

  it("are scrubbed from a nested object under an innocent key", () => {
    const { logger, text } = capturedLogger({ secrets: [secret] });
    logger.info({ request: { options: { retry: { note: secret } } } }, "call");
    expect(text()).not.toContain(secret);
  });

  it("are scrubbed from a header value", () => {
    const { logger, text } = capturedLogger({ secrets: [secret] });
    logger.info({ headers: { "x-custom": `Bearer ${secret}` } }, "call");
    expect(text()).not.toContain(secret);
  });

  it("are scrubbed when the secret holds quotes and backslashes that JSON escapes", () => {
    const tricky = 'change-me-"quoted"\\back\\slash';
    const { logger, lines, text } = capturedLogger({ secrets: [tricky] });
    logger.info({ note: `value=${tricky}` }, "call");
    expect(lines[0]?.note).toBe(`value=${REDACTED}`);
    expect(text()).not.toContain(JSON.stringify(tricky).slice(1, -1));
  });

  it("are scrubbed when the secret holds control characters", () => {
    const tricky = "change-me\tpem\nline";
    const { logger, lines } = capturedLogger({ secrets: [tricky] });
    logger.info({ note: `value=${tricky}` }, "call");
    expect(lines[0]?.note).toBe(`value=${REDACTED}`);
  });

  it("include the password of a secret URL, wherever it appears alone", () => {
    const { logger, text } = capturedLogger({ secrets: ["postgres://app:change-me-pg-pass@db:5432/app"] });
    logger.error({ err: new Error("auth failed for password change-me-pg-pass") }, "db_failed");
    expect(text()).not.toContain("change-me-pg-pass");
  });

  it("include a percent-encoded URL password, encoded and decoded", () => {
    const { logger, text } = capturedLogger({ secrets: ["redis://:change-me%40p%2Fss@cache:6379"] });
    logger.info({ a: "raw change-me%40p%2Fss", b: "decoded change-me@p/ss" }, "call");
    expect(text()).not.toContain("change-me%40p%2Fss");
    expect(text()).not.toContain("change-me@p/ss");
  });

  it("accept a URL password with a stray percent sign", () => {
    const { logger, text } = capturedLogger({ secrets: ["postgres://app:change-me-100%@db/app"] });
    logger.info({ a: "pw change-me-100%" }, "call");
    expect(text()).not.toContain("change-me-100%");
  });

  it("scrub the password of any URL with credentials, secret or not", () => {
    const { logger, lines } = capturedLogger();
    logger.info({ target: "amqp://guest:change-me-other@mq:5672/vhost" }, "call");
    expect(lines[0]?.target).toBe(`amqp://guest:${REDACTED}@mq:5672/vhost`);
  });

  it("leave lines without secrets untouched", () => {
    const { logger, lines } = capturedLogger({ secrets: [secret] });
    logger.info({ url: "https://example.com/a?b=c" }, "call");
    expect(lines[0]?.url).toBe("https://example.com/a?b=c");
  });
});

describe("output", () => {
  it("is one JSON object per line, even when values hold newlines", () => {
    const { logger, chunks } = capturedLogger();
    logger.info({ note: "line one\nline two\r\n" }, "first");
    logger.error({ err: new Error("multi\nline") }, "second");
    const output = chunks.join("");
    const lines = output.split("\n");
    expect(lines.pop()).toBe("");
    expect(lines).toHaveLength(2);
    for (const line of lines) expect(() => JSON.parse(line) as unknown).not.toThrow();
  });
});

describe("a real process's stdout", () => {
  const PRINT = fileURLToPath(new URL("./fixtures/print.ts", import.meta.url));
  const secret = "change-me-stdout-secret-77e1";

  async function print(format: "json" | "pretty", then?: "exit" | "throw", exitCode = 0) {
    const printer = startProcess(process.execPath, ["--conditions=source", "--import", "tsx", PRINT], {
      cwd: fileURLToPath(new URL(".", import.meta.url)),
      env: { LOG_FORMAT: format, SECRET: secret, NO_COLOR: "1", THEN: then },
    });
    expect(await printer.exited).toBe(exitCode);
    return printer.logs;
  }

  it("gets one JSON object per line by default", async () => {
    const logs = await print("json");
    expect(logs.raw).toHaveLength(2);
    expect(logs.events()).toEqual(["task_created", "task_failed"]);
  });

  it("gets every line written just before process.exit()", async () => {
    const logs = await print("json", "exit", 3);
    expect(logs.events()).toEqual(["task_created", "task_failed"]);
  });

  it("gets every line written just before an uncaught exception", async () => {
    const logs = await print("json", "throw", 1);
    expect(logs.events()).toEqual(["task_created", "task_failed"]);
  });

  it("gets human lines when pretty is asked for, still without secrets", async () => {
    const logs = await print("pretty");
    expect(logs.lines).toEqual([]);
    expect(logs.text()).toContain("task_created");
    expect(logs.text()).toContain(`failed with ${REDACTED}`);
    expect(logs.text()).not.toContain(secret);
  });
});
