/**
 * The built services as the image runs them (`node --import ./dist/instrument.js dist/main.js`
 * from the package folder), for every test that starts real processes.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startProcess, waitFor, type RunningProcess } from "@ward/shared/testing";

export type ServiceName = "gateway" | "worker";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** Tests of the built services say so plainly when nothing is built. */
export function requireBuilt(): void {
  for (const file of ["services/gateway/dist/main.js", "services/worker/dist/main.js", "shared/dist"]) {
    if (!existsSync(join(ROOT, file))) {
      throw new Error(
        `${file} is missing: these tests run the built services. Run \`pnpm build\` first ` +
          "(`pnpm test` builds before it runs the tests).",
      );
    }
  }
}

/** Runs a service's migrations (`node dist/migrate.js`) and resolves once they exited 0. */
export async function migrateBuilt(name: ServiceName, env: Record<string, string>): Promise<RunningProcess> {
  const run = startProcess(process.execPath, ["dist/migrate.js"], { cwd: folderOf(name), env });
  const code = await run.exited;
  if (code !== 0) throw new Error(`the ${name} migrations exited ${code}:\n${run.logs.text()}`);
  return run;
}

/** Starts a built service; keep the process before waiting, so a caller can stop it on failure. */
export function startBuilt(name: ServiceName, env: Record<string, string>): RunningProcess {
  return startProcess(process.execPath, ["--import", "./dist/instrument.js", "dist/main.js"], {
    cwd: folderOf(name),
    env,
  });
}

/** Resolves once a started service listens and `url/readyz` answers 200. */
export async function untilReady(run: RunningProcess, name: ServiceName, url: string): Promise<void> {
  await run.waitForLog((line) => line.event === "server_listening");
  await waitFor(async () => (await fetch(`${url}/readyz`)).status === 200, {
    what: `${name} /readyz to answer 200`,
  });
}

function folderOf(name: ServiceName): string {
  return join(ROOT, "services", name);
}
