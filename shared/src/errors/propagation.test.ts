// Sentry's init is global to the process: this file owns it (vitest runs each file in its own fork).
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOutboundAgent } from "../http/index.js";
import { capturedLogger } from "../testing/http.js";
import { initSentry } from "./index.js";
import { startSentryIngest, type SentryIngest } from "../testing/sentry-ingest.js";

let ingest: SentryIngest;
let receiver: ReturnType<typeof createServer>;
let url: string;
const seen: IncomingHttpHeaders[] = [];

beforeAll(async () => {
  ingest = await startSentryIngest();
  expect(await initSentry({ dsn: ingest.dsn, service: "worker", environment: "staging" })).toBe(true);
  receiver = createServer((req, res) => {
    seen.push(req.headers);
    res.end("{}");
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
});
afterAll(async () => {
  await new Promise((resolve) => receiver.close(resolve));
  await ingest.close();
});

describe("with Sentry on, an outgoing request", () => {
  it.each([
    [
      "through the outbound agent",
      () => createOutboundAgent({ logger: capturedLogger({ level: "debug" }).logger }),
    ],
    ["through undici's global dispatcher", () => undefined],
  ])(
    "%s carries no sentry-trace or baggage header (no DSN key, environment or release)",
    async (_how, agent) => {
      const response = await request(url, { method: "POST", body: "{}", dispatcher: agent() });
      await response.body.dump();
      const headers = seen.at(-1) ?? {};
      expect(headers).not.toHaveProperty("sentry-trace");
      expect(headers).not.toHaveProperty("baggage");
    },
  );
});
