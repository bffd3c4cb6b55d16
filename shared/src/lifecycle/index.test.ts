import http from "node:http";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { createReadiness } from "../health/index.js";
import { createLogger } from "../logging/index.js";
import { LogCapture, startProcess, type LogLine, type RunningProcess } from "../testing/index.js";
import { createLifecycle } from "./index.js";

const SERVICE = fileURLToPath(new URL("./fixtures/service.ts", import.meta.url));

interface Reply {
  status: number;
  body: string;
  headers: http.IncomingHttpHeaders;
  /** The client end's port: the same on two replies that came over one connection. */
  localPort: number | undefined;
  /** Resolves when the server closes the connection the reply came on. */
  connectionClosed: Promise<void>;
}

/** One GET over its own connection (or `agent`'s), read to the end. */
function get(port: number, path: string, agent: http.Agent | false = false): Promise<Reply> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: "127.0.0.1", port, path, agent }, (response) => {
        const socket = response.socket;
        const connectionClosed = new Promise<void>((closed) => socket.once("close", () => closed()));
        let body = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => (body += chunk));
        response.on("end", () =>
          resolve({
            status: response.statusCode ?? 0,
            body,
            headers: response.headers,
            localPort: socket.localPort,
            connectionClosed,
          }),
        );
      })
      .on("error", reject);
  });
}

/** Starts the fixture service and waits until it listens. */
async function startService(
  env: Record<string, string> = {},
): Promise<{ service: RunningProcess; port: number }> {
  const service = startProcess(process.execPath, ["--conditions=source", "--import", "tsx", SERVICE], {
    cwd: fileURLToPath(new URL(".", import.meta.url)),
    env,
  });
  const listening = await service.waitForLog((line) => line.event === "server_listening");
  return { service, port: listening.port as number };
}

const event = (name: string) => (line: LogLine) => line.event === name;
const indexOf = (service: RunningProcess, predicate: (line: LogLine) => boolean) =>
  service.logs.lines.findIndex(predicate);

describe("SIGTERM during a request", () => {
  let service: RunningProcess;
  let readyBefore: Reply;
  let readyDuringDelay: Reply;
  let reusedDuringDelay: Reply;
  let connectAfterDelay: unknown;
  let inFlight: Reply;
  let exitCode: number | string;

  beforeAll(async () => {
    let port: number;
    ({ service, port } = await startService({ SHUTDOWN_DELAY_MS: "1000", SLOW_MS: "2500" }));
    // A client holding an idle keep-alive connection, as a load balancer does.
    const idle = new http.Agent({ keepAlive: true, maxSockets: 1 });
    readyBefore = await get(port, "/readyz", idle);
    const agent = new http.Agent({ keepAlive: true });
    const slow = get(port, "/slow", agent);
    await service.waitForLog(event("slow_request_started"));

    service.child.kill("SIGTERM");
    await service.waitForLog(event("shutdown_started"));
    readyDuringDelay = await get(port, "/readyz");
    reusedDuringDelay = await get(port, "/readyz", idle);
    await service.waitForLog((line) => line.event === "shutdown_step_started" && line.step === "server");
    connectAfterDelay = await get(port, "/healthz").catch((error: unknown) => error);
    inFlight = await slow;
    exitCode = await service.exited;
    agent.destroy();
    idle.destroy();
  });

  it("turns readiness to 503 at once, while still answering during the delay", () => {
    expect(readyBefore.status).toBe(200);
    expect(readyDuringDelay.status).toBe(503);
    expect(JSON.parse(readyDuringDelay.body)).toMatchObject({ status: "not_ready", shutting_down: true });
  });

  it("keeps an idle keep-alive connection usable during the delay, and answers on it", () => {
    // Closing it under a client that is reusing it would fail that client's request.
    expect(reusedDuringDelay.status).toBe(503);
    expect(reusedDuringDelay.localPort).toBe(readyBefore.localPort);
  });

  it("asks clients to drop their connections during the delay (Connection: close)", async () => {
    expect(readyBefore.headers.connection).toBe("keep-alive");
    expect(reusedDuringDelay.headers.connection).toBe("close");
    await expect(reusedDuringDelay.connectionClosed).resolves.toBeUndefined();
  });

  it("refuses new connections once the delay is over", () => {
    expect(connectAfterDelay).toMatchObject({ code: "ECONNREFUSED" });
  });

  it("lets the in-flight request finish with 200", () => {
    expect(inFlight).toMatchObject({ status: 200, body: "slow done" });
  });

  it("closes the in-flight request's keep-alive connection once it is answered", async () => {
    // Left open, the connection would hold the server (60 s keep-alive) past the 10 s deadline.
    expect(
      service.logs.find((line) => line.event === "shutdown_step_completed" && line.step === "server"),
    ).toBeDefined();
    await expect(inFlight.connectionClosed).resolves.toBeUndefined();
  });

  it("waits for registered work before closing resources", () => {
    expect(indexOf(service, event("consumer_stopped"))).toBeGreaterThan(-1);
    expect(indexOf(service, event("consumer_stopped"))).toBeLessThan(
      indexOf(service, event("resource_closing")),
    );
  });

  it("closes resources one by one, in reverse order of registration", () => {
    const closing = service.logs.lines
      .filter((line) => line.event === "resource_closing" || line.event === "resource_closed")
      .map((line) => `${line.event as string} ${line.resource as string}`);
    expect(closing).toEqual([
      "resource_closing redis",
      "resource_closed redis",
      "resource_closing postgres",
      "resource_closed postgres",
      "resource_closing sentry",
      "resource_closed sentry",
    ]);
  });

  it("exits 0, logging when shutdown started and how long it took", () => {
    expect(exitCode).toBe(0);
    expect(service.logs.find(event("shutdown_started"))).toMatchObject({ level: "info", signal: "SIGTERM" });
    expect(service.logs.find(event("shutdown_completed"))).toMatchObject({
      level: "info",
      duration_ms: expect.any(Number) as number,
    });
  });
});

describe("shutdown", () => {
  it("runs on SIGINT too", async () => {
    const { service } = await startService();
    service.child.kill("SIGINT");
    expect(await service.exited).toBe(0);
    expect(service.logs.find(event("shutdown_started"))).toMatchObject({ signal: "SIGINT" });
  });

  it("logs and ignores a second signal", async () => {
    const { service } = await startService({ SHUTDOWN_DELAY_MS: "1000" });
    service.child.kill("SIGTERM");
    await service.waitForLog(event("shutdown_started"));
    service.child.kill("SIGTERM");
    expect(await service.exited).toBe(0);
    expect(service.logs.find(event("shutdown_signal_ignored"))).toMatchObject({
      level: "warn",
      signal: "SIGTERM",
    });
    expect(service.logs.find(event("shutdown_completed"))).toBeDefined();
  });

  it("exits 1 with shutdown_timed_out when work never finishes", async () => {
    const { service } = await startService({ HANG_DRAIN: "1", SHUTDOWN_TIMEOUT_MS: "1000" });
    service.child.kill("SIGTERM");
    expect(await service.exited).toBe(1);
    expect(service.logs.find(event("shutdown_timed_out"))).toMatchObject({
      level: "error",
      pending: ["drain:consumer"],
    });
    expect(service.logs.find(event("shutdown_completed"))).toBeUndefined();
  });

  it("still closes the other resources when one fails to close, then exits 1", async () => {
    const { service } = await startService({ FAILING_RESOURCE: "postgres" });
    service.child.kill("SIGTERM");
    expect(await service.exited).toBe(1);
    expect(service.logs.find(event("shutdown_step_failed"))).toMatchObject({
      step: "close:postgres",
      err: { message: "postgres refused to close" },
    });
    const closed = service.logs.lines.filter(event("resource_closed")).map((line) => line.resource);
    expect(closed).toEqual(["redis", "sentry"]);
  });
});

describe("a crash", () => {
  it.each([
    ["/crash", "uncaught_exception", "TypeError"],
    ["/reject", "unhandled_rejection", "RangeError"],
  ])("on %s is logged as %s, reported, shut down gracefully and exits 1", async (path, kind, errorName) => {
    // A delay longer than the deadline: a crash skips it, or the shutdown would time out.
    const { service, port } = await startService({ SHUTDOWN_DELAY_MS: "5000", SHUTDOWN_TIMEOUT_MS: "3000" });
    await get(port, path);
    expect(await service.exited).toBe(1);
    expect(service.logs.find(event(kind))).toMatchObject({ level: "fatal", err: { type: errorName } });
    expect(service.logs.find(event("fatal_reported"))).toMatchObject({ error_name: errorName });
    expect(service.logs.lines.filter(event("resource_closed"))).toHaveLength(3);
    expect(service.logs.find(event("shutdown_timed_out"))).toBeUndefined();
  });
});

describe("shutdown() in process", () => {
  it("runs once, however often it is called, and exits once", async () => {
    const logs = new LogCapture();
    const logger = createLogger({ service: "t", version: "0", environment: "test", destination: logs });
    const readiness = createReadiness({ logger });
    const exits: number[] = [];
    const closed: string[] = [];
    const lifecycle = createLifecycle({
      logger,
      readiness,
      shutdownDelayMs: 0,
      exit: (code) => exits.push(code),
    })
      .onShutdown("first", () => closed.push("first"))
      .onShutdown("second", () => closed.push("second"));
    await Promise.all([lifecycle.shutdown("test"), lifecycle.shutdown("again")]);
    expect(exits).toEqual([0]);
    expect(closed).toEqual(["second", "first"]);
    expect(readiness.isShuttingDown).toBe(true);
    expect(logs.lines.filter(event("shutdown_started"))).toMatchObject([{ reason: "test" }]);
  });
});
