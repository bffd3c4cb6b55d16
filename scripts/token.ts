/**
 * Prints a development JWT for the gateway: `pnpm token [--user ID] [--org ID] [--ttl SECONDS]`.
 * Signed HS256 with JWT_SECRET from the environment, JWT_SECRET_FILE, or the local `.env`.
 */
import { sign } from "hono/jwt";
import { defineSettings, loadSettings, secret, text, SettingsError } from "@ward/shared/settings";
import { readCommandLine } from "./command-line.js";
import { ROOT } from "./dev/local-env.js";

const usage = `
usage: pnpm token [--user ID] [--org ID] [--ttl SECONDS]

Prints a JWT the gateway accepts (HS256, claims sub and org_id), signed with JWT_SECRET from the
environment, JWT_SECRET_FILE or the local .env that \`pnpm dev\` creates.

  --user ID       the sub claim (default user-1)
  --org ID        the org_id claim (default org-1)
  --ttl SECONDS   lifetime (default 3600)`;

const { values: args } = readCommandLine("token", usage, {
  user: { type: "string", default: "user-1" },
  org: { type: "string", default: "org-1" },
  ttl: { type: "string", default: "3600" },
});

const tokenSettings = defineSettings({
  JWT_SECRET: secret(text({ min: 32 })).describe("Key that signs user JWTs"),
});

try {
  const { JWT_SECRET } = loadSettings(tokenSettings, { cwd: ROOT });
  const now = Math.floor(Date.now() / 1000);
  const ttl = Number(args.ttl);
  if (!Number.isInteger(ttl) || ttl <= 0) throw new Error("--ttl must be a whole number of seconds");
  console.log(
    await sign({ sub: args.user, org_id: args.org, iat: now, exp: now + ttl }, JWT_SECRET, "HS256"),
  );
} catch (error) {
  const hint =
    error instanceof SettingsError ? "\nRun `pnpm dev` once (it creates .env) or set JWT_SECRET." : "";
  console.error(`token: ${(error as Error).message}${hint}`);
  process.exit(2);
}
