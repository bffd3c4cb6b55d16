// Run by index.test.ts as a service's main would: load settings or exit.
import { defineSettings, loadSettingsOrExit, logging, secret, server, text } from "../index.js";

const settings = loadSettingsOrExit(
  defineSettings((ctx) => ({
    ...server(ctx, { port: 8080 }),
    ...logging(),
    JWT_SECRET: secret(text({ min: 32 })).describe("Key that signs user JWTs"),
  })),
  { service: "gateway" },
);
process.stdout.write(`listening on ${settings.PORT}\n`);
