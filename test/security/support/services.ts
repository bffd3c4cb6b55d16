import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startListening, startProcess, waitFor, type RunningProcess } from "@ward/shared/testing";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

export type ServiceName = "gateway" | "worker";

/** A built service as its image runs it, with exactly the environment given. */
export interface RunningService {
  name: ServiceName;
  url: string;
  process: RunningProcess;
}

/**
 * `node dist/migrate.js` of a service with `env`; resolves with the finished process.
 *
 * @example
 * const run = await migrateService("gateway", { DATABASE_URL }); expect(await run.exited).toBe(0);
 */
export async function migrateService(
  name: ServiceName,
  env: Record<string, string>,
): Promise<RunningProcess> {
  requireBuilt(name);
  const run = startProcess(process.execPath, ["dist/migrate.js"], { cwd: join(ROOT, "services", name), env });
  await run.exited;
  return run;
}

/**
 * Starts `node --import ./dist/instrument.js dist/main.js` of a service with `env` on a free port
 * and waits until it listens (and, unless told otherwise, is ready).
 *
 * @example
 * const worker = await startService("worker", env);
 */
export async function startService(
  name: ServiceName,
  env: Record<string, string>,
  { ready = true } = {},
): Promise<RunningService> {
  requireBuilt(name);
  const { run: started, port } = await startListening((at) =>
    startProcess(process.execPath, ["--import", "./dist/instrument.js", "dist/main.js"], {
      cwd: join(ROOT, "services", name),
      env: { ...env, PORT: String(at) },
    }),
  );
  const url = `http://127.0.0.1:${port}`;
  if (ready)
    await waitFor(async () => (await fetch(`${url}/readyz`)).status === 200, { what: `${name} ready` });
  return { name, url, process: started };
}

/**
 * Runs a service that should refuse to start; resolves with the finished process.
 *
 * @example
 * const run = await runUntilExit("gateway", { JWT_SECRET: "short" }); expect(await run.exited).toBe(78);
 */
export async function runUntilExit(name: ServiceName, env: Record<string, string>): Promise<RunningProcess> {
  requireBuilt(name);
  const run = startProcess(process.execPath, ["--import", "./dist/instrument.js", "dist/main.js"], {
    cwd: join(ROOT, "services", name),
    env,
  });
  const timer = setTimeout(() => run.child.kill("SIGKILL"), 15_000);
  await run.exited;
  clearTimeout(timer);
  return run;
}

function requireBuilt(name: ServiceName): void {
  if (!existsSync(join(ROOT, "services", name, "dist", "main.js"))) {
    throw new Error(
      `services/${name}/dist is missing: these tests run the built services; run \`pnpm build\` first`,
    );
  }
}
