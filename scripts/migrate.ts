/**
 * `pnpm migrate`: applies both services' migrations to DATABASE_URL (from the environment,
 * DATABASE_URL_FILE or `.env`). Safe to run from many places at once: each service's
 * migrations run under a PostgreSQL advisory lock.
 */
import { spawnSync } from "node:child_process";
import { readCommandLine } from "./command-line.js";
import { ROOT } from "./dev/local-env.js";

readCommandLine(
  "migrate",
  `
usage: pnpm migrate

Applies the gateway's and the worker's migrations to DATABASE_URL (from the environment,
DATABASE_URL_FILE or .env). Safe from many places at once: each service's migrations run under
a PostgreSQL advisory lock.`,
  {},
);

for (const service of ["gateway", "worker"]) {
  const { status } = spawnSync(
    process.execPath,
    ["--conditions=source", "--import", "tsx", `services/${service}/src/migrate.ts`],
    { cwd: ROOT, stdio: "inherit" },
  );
  if (status !== 0) {
    console.error(`migrate: the ${service} migrations failed (exit ${status ?? "signal"})`);
    process.exit(status ?? 1);
  }
}
