/**
 * Prints `.env.example` as the services' settings definitions describe it.
 *
 *   node --conditions=source --import tsx scripts/env-example.ts            # print
 *   node --conditions=source --import tsx scripts/env-example.ts --write    # rewrite .env.example
 *   node --conditions=source --import tsx scripts/env-example.ts --check    # exit 1 when it drifted
 */
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import {
  defineSettings,
  int,
  list,
  logging,
  postgres,
  redis,
  renderEnvExample,
  requiredWhen,
  secret,
  sentry,
  server,
  text,
  url,
  workerToken,
  type ServiceSettings,
} from "@ward/shared/settings";

// ---------------------------------------------------------------------------------------------
// STAND-INS until the services declare their own settings. Service authors: delete this block
// and import the real definitions instead:
//   import { gatewaySettings } from "../services/gateway/src/settings.js";
//   import { workerSettings } from "../services/worker/src/settings.js";
const gatewaySettings = defineSettings((ctx) => ({
  ...server(ctx, { port: 8080 }),
  ...logging(),
  ...postgres(),
  ...redis(ctx),
  ...sentry(),
  ...workerToken(),
  JWT_SECRET: secret(text({ min: 32 })).describe("Key that signs and verifies user JWTs (HS256)"),
  WORKER_URL: url({
    default: ctx.environment === "development" ? "http://127.0.0.1:8081" : undefined,
  }).describe("Base URL of the worker"),
  CORS_ORIGINS: list({ of: url() }).describe(
    "Origins allowed to call the API from a browser, comma-separated or a JSON list",
  ),
}));

const workerSettings = defineSettings((ctx) => ({
  ...server(ctx, { port: 8081 }),
  ...logging(),
  ...postgres(),
  ...redis(ctx),
  ...sentry(),
  ...workerToken(),
  WEBHOOK_URL: url({ optional: true }).describe("Where notifications are delivered; unset stores them only"),
  WEBHOOK_SIGNING_SECRET: secret(requiredWhen("WEBHOOK_URL", text({ min: 32 }))).describe(
    "Key that signs each webhook call",
  ),
  MAX_ATTEMPTS: int({ min: 1, max: 100, default: 5 }).describe(
    "Delivery attempts before a notification is parked as failed",
  ),
}));
// END OF STAND-INS
// ---------------------------------------------------------------------------------------------

/** The services whose settings `.env.example` lists, in the order it lists them. */
export const services: readonly ServiceSettings[] = [
  { service: "gateway", definition: gatewaySettings },
  { service: "worker", definition: workerSettings },
];

/** Where `.env.example` lives: the repository root. */
export const envExamplePath = fileURLToPath(new URL("../.env.example", import.meta.url));

/** The text `.env.example` should have. */
export function envExample(): string {
  return renderEnvExample(services);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const text = envExample();
  if (process.argv.includes("--write")) {
    writeFileSync(envExamplePath, text);
  } else if (process.argv.includes("--check")) {
    if (readFileSync(envExamplePath, "utf8") !== text) {
      console.error(".env.example is out of date: run scripts/env-example.ts --write");
      process.exit(1);
    }
  } else {
    process.stdout.write(text);
  }
}
