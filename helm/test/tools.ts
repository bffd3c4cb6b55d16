import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

/** The repository's root folder. */
export const repoRoot = fileURLToPath(new URL("../../", import.meta.url));

const toolPaths = new Map<string, string>();

/**
 * Runs `helm` or `kubectl` (from PATH, else the binary bundled in node_modules; see scripts/layer-tool.sh)
 * from the repository root and returns its stdout. A failing run throws an Error carrying the tool's stderr.
 *
 * @example
 * const manifests = runTool("kubectl", ["kustomize", "k8s/dev"]);
 */
export function runTool(tool: "helm" | "kubectl", args: string[]): string {
  let path = toolPaths.get(tool);
  if (!path) {
    path = execFileSync("bash", ["scripts/layer-tool.sh", tool], { cwd: repoRoot, encoding: "utf8" }).trim();
    toolPaths.set(tool, path);
  }
  try {
    return execFileSync(path, args, {
      cwd: repoRoot,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? "";
    throw new Error(`${tool} ${args.join(" ")} failed: ${stderr.trim() || String(error)}`, { cause: error });
  }
}
