/**
 * One side of a service-to-service hop, one process each:
 * `hop.ts back <bare|ward>` answers `GET /job`; `hop.ts front <bare|ward> <back-url>` answers
 * `GET /hop` by calling the back's `/job` and returning its JSON. `ward`: both behind
 * `useObservability`, the front calling through `createServiceClient` (correlation propagated,
 * `outbound_request` logged). `bare`: Hono and a plain undici `Pool` with the same limits.
 */
import { Hono } from "hono";
import { Pool, type Dispatcher } from "undici";
import { createServiceClient, useObservability } from "@ward/shared/http";
import { serveHono, serviceLogger } from "./shared.js";

const [role, variant, backUrl] = process.argv.slice(2);
if (variant !== "bare" && variant !== "ward") throw new Error(`unknown variant ${variant}`);

const logger = serviceLogger(role === "back" ? "worker-like" : "gateway-like");
const app = (): Hono => (variant === "ward" ? useObservability(new Hono(), { logger }) : new Hono());

if (role === "back") {
  const back = app();
  back.get("/job", (c) => c.json({ done: true }));
  serveHono(back);
} else if (role === "front" && backUrl) {
  const front = app();
  // createServiceClient's defaults (32 connections, 10 s timeouts) for both.
  const client: Dispatcher =
    variant === "ward"
      ? createServiceClient(backUrl, { logger })
      : new Pool(backUrl, { connections: 32, headersTimeout: 10_000, bodyTimeout: 10_000 });
  front.get("/hop", async (c) => {
    const { statusCode, body } = await client.request({ method: "GET", path: "/job" });
    return c.json(await body.json(), statusCode === 200 ? 200 : 502);
  });
  serveHono(front);
} else {
  throw new Error("usage: hop.ts back <bare|ward> | hop.ts front <bare|ward> <back-url>");
}
