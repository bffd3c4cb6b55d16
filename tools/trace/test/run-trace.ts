import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** The repository root, where `pnpm trace` runs. */
export const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));

// `node <flags> <entry>`, exactly as the root package.json's "trace" script says.
const [, ...scriptArgs] = (
  JSON.parse(readFileSync(new URL("package.json", `file://${repoRoot}`), "utf8")) as {
    scripts: { trace: string };
  }
).scripts.trace.split(" ");

export interface TraceRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface TraceOptions {
  stdin?: string;
  /** Added to this process's environment; INIT_CWD is unset unless given here. */
  env?: Record<string, string>;
  nodeFlags?: string[];
}

/**
 * Runs `pnpm trace` as the root package.json does and collects what it printed.
 *
 * @example
 * const { code, stdout } = await runTrace(["try-ward-1", "gateway.log"]);
 */
export function runTrace(args: string[], options: TraceOptions = {}): Promise<TraceRun> {
  const env: NodeJS.ProcessEnv = { ...process.env, ...options.env };
  if (options.env?.INIT_CWD === undefined) delete env.INIT_CWD;
  const child = spawn(process.execPath, [...(options.nodeFlags ?? []), ...scriptArgs, ...args], {
    cwd: repoRoot,
    env,
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  child.stdin.end(options.stdin ?? "");
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}
