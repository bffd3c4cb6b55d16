import { spawn } from "node:child_process";
import { repoRoot } from "./tools.js";

/**
 * `pnpm trace <correlationId>` over `kubectl logs --prefix`-style output given on stdin, as a user pipes it.
 *
 * @example
 * const { code, stdout } = await traceLogs(gatewayLogs + workerLogs, "pod-harness-1a2b");
 */
export function traceLogs(logs: string, correlationId: string) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ["--conditions=source", "--import", "tsx", "tools/trace/src/main.ts", correlationId],
      { cwd: repoRoot, stdio: ["pipe", "pipe", "pipe"] },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(logs);
  });
}
