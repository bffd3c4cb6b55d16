/**
 * `pnpm bench`: ward's cost against its baselines in one run, on loopback (the usage below says
 * how to choose scenarios, durations and rounds).
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem, tmpdir, type, release } from "node:os";
import { join } from "node:path";
import { readCommandLine } from "../scripts/command-line.js";
import { pinSelf, PINNING, ROOT } from "./lib/processes.js";
import { checkBudgets, formatReport, type BenchResults } from "./lib/report.js";
import { measureHop } from "./scenarios/hop.js";
import { measureImages } from "./scenarios/images.js";
import { measureInbound } from "./scenarios/inbound.js";
import { measureServices } from "./scenarios/services.js";
import type { BenchSettings } from "./scenarios/settings.js";

const SCENARIOS = ["inbound", "hop", "services", "images"] as const;

const usage = `
usage: pnpm bench [--only ${SCENARIOS.join(",")}] [--duration S] [--rounds N] [--connections N]
                  [--node-options FLAGS]

Measures ward against its baselines in one run, on loopback, and checks the budgets as ratios
within the run (bench/README.md). Builds first; prints Markdown tables; writes
bench/results/latest.json.

  --only LIST           scenarios to run (default all: ${SCENARIOS.join(",")})
  --duration S          seconds of load per round (default 5)
  --rounds N            alternating rounds per figure; medians are reported (default 3)
  --connections N       concurrent connections of the load (default 32)
  --node-options FLAGS  NODE_OPTIONS for the built services, to weigh a flag`;

const { values: args } = readCommandLine("bench", usage, {
  only: { type: "string", default: SCENARIOS.join(",") },
  duration: { type: "string", default: "5" },
  rounds: { type: "string", default: "3" },
  connections: { type: "string", default: "32" },
  "node-options": { type: "string" },
});
const only = new Set(args.only.split(","));
for (const name of only) {
  if (!(SCENARIOS as readonly string[]).includes(name))
    fail(`--only takes ${SCENARIOS.join(", ")}, not ${name}`);
}
const positive = (name: string, value: string) => {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) fail(`--${name} must be a whole number above 0`);
  return number;
};

const scratch = mkdtempSync(join(tmpdir(), "ward-bench-"));
const settings: BenchSettings = {
  duration: positive("duration", args.duration),
  warmUp: 2,
  rounds: positive("rounds", args.rounds),
  connections: positive("connections", args.connections),
  nodeOptions: args["node-options"],
  scratch,
  progress: (line) => console.error(line),
};

console.error("bench: building (the services run from dist)");
const build = spawnSync(process.execPath, [`${ROOT}node_modules/typescript/bin/tsc`, "-b"], {
  cwd: ROOT,
  stdio: "inherit",
});
if (build.status !== 0) fail("the build failed; fix it and run pnpm bench again");

const started = performance.now();
const results: BenchResults = { meta: meta(), budgets: [] };
try {
  pinSelf(true);
  if (only.has("inbound")) {
    console.error("bench: inbound stack");
    results.inbound = await measureInbound(settings);
  }
  if (only.has("hop")) {
    console.error("bench: one hop");
    results.hop = await measureHop(settings);
  }
  pinSelf(false);
  if (only.has("services")) {
    console.error("bench: services");
    results.services = await measureServices(settings);
  }
  if (only.has("images")) {
    console.error("bench: images");
    results.images = await measureImages(settings);
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
results.budgets = checkBudgets(results.inbound, results.hop, results.services);
results.meta.seconds = Math.round((performance.now() - started) / 1000);

console.log(formatReport(results));
mkdirSync(`${ROOT}bench/results`, { recursive: true });
writeFileSync(`${ROOT}bench/results/latest.json`, `${JSON.stringify(results, null, 2)}\n`);
console.error(`\nbench: ${String(results.meta.seconds)} s; figures in bench/results/latest.json`);
// Budgets are reported, never enforced: a slow machine is not a broken build.
process.exit(0);

function meta(): Record<string, unknown> {
  const cpu = cpus();
  const version = (path: string) =>
    (JSON.parse(readFileSync(`${ROOT}${path}/package.json`, "utf8")) as { version: string }).version;
  const git = (...gitArgs: string[]) =>
    spawnSync("git", gitArgs, { cwd: ROOT, encoding: "utf8" }).stdout.trim();
  const dirty = git("status", "--porcelain", "--", "shared/src", "services") !== "";
  return {
    date: new Date().toISOString().slice(0, 16).replace("T", " ") + " UTC",
    machine: `${cpu[0]?.model ?? "unknown CPU"} × ${cpu.length}, ${Math.round(totalmem() / 2 ** 30)} GB, ${type()} ${release()}`,
    node: process.versions.node,
    // Other work on the machine moves req/s; CPU µs per request much less.
    loadBefore: loadavg()[0]!.toFixed(2),
    versions: [
      ["hono", "node_modules/hono"],
      ["@hono/node-server", "node_modules/@hono/node-server"],
      ["fastify", "node_modules/fastify"],
      ["pino", "shared/node_modules/pino"],
      ["undici", "node_modules/undici"],
      ["autocannon", "node_modules/autocannon"],
    ]
      .map(([name, path]) => `${name} ${version(path!)}`)
      .join(", "),
    commit: `${git("rev-parse", "--short", "HEAD")}${dirty ? " + local changes" : ""}`,
    pinning: PINNING.server
      ? `servers on CPU ${PINNING.server}, load generator on CPU ${PINNING.load}`
      : `not pinned (${PINNING.reason})`,
    nodeOptions: settings.nodeOptions,
    settings: {
      duration: settings.duration,
      warmUp: settings.warmUp,
      rounds: settings.rounds,
      connections: settings.connections,
    },
  };
}

function fail(message: string): never {
  console.error(`bench: ${message}`);
  process.exit(2);
}
