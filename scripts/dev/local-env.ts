import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { parseEnv } from "node:util";

/** The repository root: every dev command works from there, whatever the caller's folder. */
export const ROOT = new URL("../../", import.meta.url).pathname;
const ENV_FILE = `${ROOT}.env`;

/**
 * The `.env` of this checkout, created on first use with fresh random development secrets,
 * so `pnpm dev`, `pnpm token` and `pnpm demo` agree on JWT_SECRET and WORKER_TOKEN.
 *
 * @example
 * const env = ensureLocalEnv(); // { ENVIRONMENT: "development", JWT_SECRET: "…", … }
 */
export function ensureLocalEnv(): { created: boolean; values: Record<string, string> } {
  let created = false;
  if (!existsSync(ENV_FILE)) {
    const random = () => randomBytes(32).toString("base64url");
    writeFileSync(
      ENV_FILE,
      [
        "# Local development settings, made by `pnpm dev` (never committed). See .env.example.",
        "ENVIRONMENT=development",
        `JWT_SECRET=${random()}`,
        `WORKER_TOKEN=${random()}`,
        "",
      ].join("\n"),
      { mode: 0o600 },
    );
    created = true;
  }
  const values = parseEnv(readFileSync(ENV_FILE, "utf8")) as Record<string, string>;
  return { created, values };
}
