/**
 * `node --conditions=source --import tsx bench/profile.ts [inbound|hop] [bare|ward|fastify]`:
 * loads one bench server (for `hop`, the front and its back) while `node --cpu-prof` records it,
 * then prints where its CPU time went: the busiest functions by self time, and the time per
 * package. The .cpuprofile files stay in bench/results/profiles/ for a flame graph (Chrome
 * DevTools, speedscope). Run `pnpm build` first: the servers use the built shared package.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { loadTest } from "./lib/load.js";
import { pinSelf, ROOT, startBenchServer } from "./lib/processes.js";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
}

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { duration: { type: "string", default: "10" }, top: { type: "string", default: "25" } },
});
const [scenario = "inbound", variant = "ward"] = positionals;
const dir = `${ROOT}bench/results/profiles/${scenario}-${variant}`;
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
const flags = ["--cpu-prof", `--cpu-prof-dir=${dir}`];

pinSelf(true);
const servers = [];
if (scenario === "hop") {
  const back = await startBenchServer("hop.ts", ["back", variant], "/dev/null", flags);
  servers.push(back, await startBenchServer("hop.ts", ["front", variant, back.url], "/dev/null", flags));
} else {
  servers.push(await startBenchServer("inbound.ts", [variant], "/dev/null", flags));
}
const path = scenario === "hop" ? "/hop" : "/hello";
const result = await loadTest(`${servers.at(-1)!.url}${path}`, {
  duration: Number(values.duration),
  connections: 32,
});
for (const server of servers.reverse()) await server.stop();
console.log(`${scenario} ${variant}: ${Math.round(result.rps)} req/s under the profiler\n`);

for (const file of readdirSync(dir).filter((name) => name.endsWith(".cpuprofile"))) {
  const profile = JSON.parse(readFileSync(join(dir, file), "utf8")) as CpuProfile;
  // tsx's loader thread writes a profile too: nearly all idle, nothing to learn from.
  if (idleShare(profile) > 0.9) continue;
  console.log(`${join(dir, file)}\n${summarize(profile)}\n`);
}

function idleShare(profile: CpuProfile): number {
  const idle = new Set(profile.nodes.filter((n) => n.callFrame.functionName === "(idle)").map((n) => n.id));
  return profile.samples.filter((id) => idle.has(id)).length / profile.samples.length;
}

/** Self time per function (top N) and per package, as shares of all samples. */
function summarize(profile: CpuProfile): string {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfSamples = new Map<number, number>();
  for (const id of profile.samples) selfSamples.set(id, (selfSamples.get(id) ?? 0) + 1);
  const total = profile.samples.length;
  const perFunction = new Map<string, number>();
  const perPackage = new Map<string, number>();
  for (const [id, count] of selfSamples) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    const where = url.replace(/^file:\/\//, "").replace(ROOT, "");
    const key = `${functionName || "(anonymous)"} ${where ? `${shortPath(where)}:${lineNumber + 1}` : ""}`;
    perFunction.set(key, (perFunction.get(key) ?? 0) + count);
    perPackage.set(
      packageOf(where, functionName),
      (perPackage.get(packageOf(where, functionName)) ?? 0) + count,
    );
  }
  const share = (count: number) => `${((100 * count) / total).toFixed(1).padStart(5)}%`;
  const top = (map: Map<string, number>, n: number) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, count]) => `  ${share(count)}  ${name}`)
      .join("\n");
  return `by package:\n${top(perPackage, 15)}\nby function (self time):\n${top(perFunction, Number(values.top))}`;
}

function shortPath(where: string): string {
  return where.replace(/^.*node_modules\/\.pnpm\/[^/]+\/node_modules\//, "");
}

function packageOf(where: string, functionName: string): string {
  if (!where) return functionName.startsWith("(") ? functionName : "(native)";
  if (where.startsWith("node:")) return where.split("/").slice(0, 2).join("/");
  const inModules = /node_modules\/\.pnpm\/[^/]+\/node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(where);
  if (inModules) return inModules[1]!;
  return where.split("/").slice(0, 3).join("/");
}
