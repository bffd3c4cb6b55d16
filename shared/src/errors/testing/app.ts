// A service in miniature, started after instrument.ts: it sends itself one request per path in
// argv, flushes Sentry, prints whether the Sentry SDK runs, and exits.
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import type { AddressInfo } from "node:net";
import { z } from "zod";
import { useObservability } from "../../http/index.js";
import { createLogger } from "../../logging/index.js";
import { ApiError, flushErrors } from "../index.js";

const logger = createLogger({ service: "preloaded", version: "0", environment: "test", level: "fatal" });
const app = useObservability(new Hono(), { logger });
app.get("/validation", (c) => c.json(z.object({ title: z.string() }).parse({})));
app.get("/not-found", () => {
  throw new ApiError(404, "task_not_found", "No such task");
});
app.get("/boom", () => {
  throw new Error("boom");
});

const server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, (info: AddressInfo) => {
  void selfTest(info.port);
});

async function selfTest(port: number) {
  for (const path of process.argv.slice(2)) {
    const res = await fetch(`http://127.0.0.1:${port}/${path}`, {
      headers: { "x-correlation-id": path },
    });
    await res.arrayBuffer();
  }
  await flushErrors(5000);
  process.stdout.write(`${JSON.stringify({ sentryRunning: "__SENTRY__" in globalThis })}\n`);
  server.close();
}
