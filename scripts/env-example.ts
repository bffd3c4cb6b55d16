/**
 * Prints `.env.example` as the services' settings definitions describe it.
 *
 *   node --conditions=source --import tsx scripts/env-example.ts            # print
 *   node --conditions=source --import tsx scripts/env-example.ts --write    # rewrite .env.example
 *   node --conditions=source --import tsx scripts/env-example.ts --check    # exit 1 when it drifted
 */
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { renderEnvExample, type ServiceSettings } from "@ward/shared/settings";
import { gatewaySettings } from "../services/gateway/src/settings.js";
import { workerSettings } from "../services/worker/src/settings.js";

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
