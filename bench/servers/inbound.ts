/**
 * A trivial route (`GET /hello` → `{"hello":"world"}`) three ways, one per process:
 * `bare` (Hono alone), `ward` (Hono behind `useObservability`: correlation, async context, two
 * log lines per request on stdout, error handler; Sentry off) and `fastify` (Fastify 5 with its
 * own pino logger on stdout, two lines per request). The bench sends stdout to a file.
 */
import { Hono } from "hono";
import Fastify from "fastify";
import { useObservability } from "@ward/shared/http";
import { reportPort, serveHono, serviceLogger } from "./shared.js";

const variant = process.argv[2];
const hello = { hello: "world" };

if (variant === "bare") {
  const app = new Hono();
  app.get("/hello", (c) => c.json(hello));
  serveHono(app);
} else if (variant === "ward") {
  const app = useObservability(new Hono(), { logger: serviceLogger("bench") });
  app.get("/hello", (c) => c.json(hello));
  serveHono(app);
} else if (variant === "fastify") {
  const app = Fastify({ logger: true });
  app.get("/hello", () => hello);
  await app.listen({ port: 0, host: "127.0.0.1" });
  const address = app.server.address();
  reportPort(typeof address === "object" && address ? address.port : 0);
} else {
  throw new Error(`unknown variant ${variant}; expected bare, ward or fastify`);
}
