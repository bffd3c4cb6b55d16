/**
 * `pnpm demo [--id CORRELATION_ID] [--gateway URL]`: creates one task through a running pair
 * with a chosen X-Correlation-ID, waits for the worker to finish its job, and prints the trace
 * of that ID from the logs `pnpm dev` keeps in `.data/logs/`.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { request } from "undici";
import { readCommandLine } from "./command-line.js";
import { ROOT } from "./dev/local-env.js";

const usage = `
usage: pnpm demo [--id CORRELATION_ID] [--gateway URL]

Sends one task through a running pair (\`pnpm dev\`) with a chosen X-Correlation-ID, waits for
the worker's job, and prints that request's trace from .data/logs/.

  --id CORRELATION_ID   the X-Correlation-ID to send (default demo-<time>)
  --gateway URL         the gateway (default http://127.0.0.1:8080)`;

const { values: args } = readCommandLine("demo", usage, {
  id: { type: "string", default: `demo-${Date.now().toString(36)}` },
  gateway: { type: "string", default: "http://127.0.0.1:8080" },
});
const id = args.id;
const logs = ["gateway", "worker"].map((name) => `${ROOT}.data/logs/${name}.log`);

const token = spawnSync(process.execPath, ["--conditions=source", "--import", "tsx", "scripts/token.ts"], {
  cwd: ROOT,
  encoding: "utf8",
});
if (token.status !== 0) fail(token.stderr.trim());

let response;
try {
  response = await request(`${args.gateway}/api/v1/tasks`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${token.stdout.trim()}`,
      "content-type": "application/json",
      "x-correlation-id": id,
    },
    body: JSON.stringify({ title: "Try ward", description: "Created by pnpm demo" }),
  });
} catch (error) {
  fail(`no gateway answers at ${args.gateway} (${(error as Error).message}). Start the pair with: pnpm dev`);
}
const body = await response.body.text();
console.log(
  `POST /api/v1/tasks → ${response.statusCode}, X-Correlation-ID: ${String(response.headers["x-correlation-id"])}`,
);
console.log(body, "\n");
if (response.statusCode !== 201) process.exit(1);

if (!logs.every((file) => existsSync(file))) {
  console.log(
    "Logs are not in .data/logs (is the pair running under pnpm dev?). Trace it from wherever they are:",
  );
  console.log(`  pnpm trace ${id} --kubectl -n ward`);
  process.exit(0);
}

const deadline = Date.now() + 15_000;
while (!jobFinished() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
if (!jobFinished()) console.log("(the worker has not finished the job after 15 s; showing what is there)\n");
const trace = spawnSync(
  process.execPath,
  ["--conditions=source", "--import", "tsx", "tools/trace/src/main.ts", id, ...logs],
  { cwd: ROOT, stdio: "inherit" },
);
process.exit(trace.status ?? 1);

function jobFinished(): boolean {
  const text = readFileSync(logs[1]!, "utf8");
  return text
    .split("\n")
    .some(
      (line) => line.includes(`"correlation_id":"${id}"`) && /"event":"job_(completed|failed)"/.test(line),
    );
}

function fail(message: string): never {
  console.error(`demo: ${message}`);
  process.exit(1);
}
