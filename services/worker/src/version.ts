import { readFileSync } from "node:fs";

/**
 * The worker's version, from its package.json (the `version` field of every log line), read from
 * `src/` and `dist/` alike.
 *
 * @example
 * createLogger({ service: "worker", version, environment });
 */
export const version: string = (
  JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }
).version;
