import { readFileSync } from "node:fs";

/**
 * The gateway's version, from its package.json (one folder up from both `src/` and `dist/`):
 * the `version` field of every log line and the Sentry release.
 *
 * @example
 * createLogger({ service: "gateway", version, environment: settings.ENVIRONMENT });
 */
export const version: string = (
  JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }
).version;
