/**
 * One side of a service-to-service hop, one process each:
 * `hop.ts back <variant>` answers `GET /job`; `hop.ts front <variant> <back-url>` answers
 * `GET /hop` by calling the back's `/job` and returning its JSON. `ward`: both behind
 * `useObservability`, the front calling through `createServiceClient` (correlation propagated,
 * `outbound_request` logged). `bare`: Hono and a plain undici `Pool` with the same limits.
 * To weigh the parts of `ward`: `ward-pool` calls through the plain `Pool` (no interceptor, no
 * `outbound_request`; the correlation header set by hand), `ward-quiet` logs at warn (none of the
 * five info lines written).
 */
import { Hono } from "hono";
import { Pool, type Dispatcher } from "undici";
import { CORRELATION_HEADER, currentCorrelationId } from "@ward/shared/correlation";
import { createServiceClient, useObservability } from "@ward/shared/http";
import { serveHono, serviceLogger } from "./shared.js";

const [role, variant, backUrl] = process.argv.slice(2);
const VARIANTS = ["bare", "ward", "ward-pool", "ward-quiet"];
if (!variant || !VARIANTS.includes(variant)) throw new Error(`unknown variant ${variant}`);

const logger = serviceLogger(
  role === "back" ? "worker-like" : "gateway-like",
  variant === "ward-quiet" ? "warn" : "info",
);
const app = (): Hono => (variant === "bare" ? new Hono() : useObservability(new Hono(), { logger }));

if (role === "back") {
  const back = app();
  back.get("/job", (c) => c.json({ done: true }));
  serveHono(back);
} else if (role === "front" && backUrl) {
  const front = app();
  // createServiceClient's defaults (32 connections, 10 s timeouts) for both.
  const client: Dispatcher =
    variant === "bare" || variant === "ward-pool"
      ? new Pool(backUrl, { connections: 32, headersTimeout: 10_000, bodyTimeout: 10_000 })
      : createServiceClient(backUrl, { logger });
  const headers = (): Record<string, string> =>
    variant === "ward-pool" ? { [CORRELATION_HEADER]: currentCorrelationId() ?? "" } : {};
  front.get("/hop", async (c) => {
    const { statusCode, body } = await client.request({ method: "GET", path: "/job", headers: headers() });
    return c.json(await body.json(), statusCode === 200 ? 200 : 502);
  });
  serveHono(front);
} else {
  throw new Error("usage: hop.ts back <bare|ward> | hop.ts front <bare|ward> <back-url>");
}
