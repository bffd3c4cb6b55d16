/**
 * `pnpm dev`: both services from source in watch mode, logs labelled by service and kept in
 * `.data/logs/` (for `pnpm demo` and `pnpm trace`). With DATABASE_URL unset it runs an embedded
 * PostgreSQL; Redis comes from REDIS_URL (default redis://127.0.0.1:6379).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, mkdirSync } from "node:fs";
import { createInterface } from "node:readline";
import { styleText } from "node:util";
import { Redis } from "ioredis";
import { readCommandLine } from "./command-line.js";
import { startEmbeddedPostgres } from "./dev/embedded-postgres.js";
import { ensureLocalEnv, ROOT } from "./dev/local-env.js";

readCommandLine(
  "dev",
  `
usage: pnpm dev

Runs the gateway and the worker from source in watch mode, logs labelled by service and kept in
.data/logs/ (for \`pnpm demo\` and \`pnpm trace\`). Creates .env with fresh development secrets
on first use. With DATABASE_URL unset it starts an embedded PostgreSQL (.data/postgres, port
DEV_POSTGRES_PORT or 54329); Redis comes from REDIS_URL (default redis://127.0.0.1:6379).`,
  {},
);

const SERVICES = [
  { name: "gateway", color: "cyan" },
  { name: "worker", color: "magenta" },
] as const;

const { created, values: dotenv } = ensureLocalEnv();
if (created) say("created .env with fresh development secrets (JWT_SECRET, WORKER_TOKEN)");
const env: Record<string, string | undefined> = { ...dotenv, ...process.env, ENVIRONMENT: "development" };

let stopPostgres = async () => {};
if (!env.DATABASE_URL) {
  const port = Number(env.DEV_POSTGRES_PORT ?? 54329);
  say(`DATABASE_URL is unset: starting the embedded PostgreSQL on 127.0.0.1:${port} (.data/postgres)`);
  const postgres = await startEmbeddedPostgres(port).catch((error: Error) => {
    console.error(`dev: ${error.message}`);
    process.exit(1);
  });
  env.DATABASE_URL = postgres.url;
  stopPostgres = () => postgres.stop();
}

const redisUrl = env.REDIS_URL ?? "redis://127.0.0.1:6379";
if (!(await redisAnswers(redisUrl))) {
  const where = redisUrl.replace(/\/\/[^@/]*@/, "//");
  console.error(
    [
      `dev: no Redis answers at ${where}.`,
      "Start one, then run pnpm dev again:",
      "  redis-server --daemonize yes           (Debian/Ubuntu: apt-get install redis-server)",
      "  docker run -d -p 6379:6379 redis:7     (with Docker)",
      "or point REDIS_URL at a Redis you have.",
    ].join("\n"),
  );
  await stopPostgres();
  process.exit(1);
}

for (const { name } of SERVICES) {
  const code = await run(tsx(name, "migrate.ts"), name);
  if (code !== 0) {
    console.error(`dev: the ${name} migrations failed (exit ${code}); see the lines above.`);
    await stopPostgres();
    process.exit(1);
  }
}

mkdirSync(`${ROOT}.data/logs`, { recursive: true });
const children = SERVICES.map(({ name, color }) => {
  const child = spawn(process.execPath, tsx(name, "main.ts", true), {
    cwd: ROOT,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const file = createWriteStream(`${ROOT}.data/logs/${name}.log`, { flags: "a" });
  const label = styleText(color, `[${name}]`);
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on("line", (line) => {
      file.write(`${line}\n`);
      console.log(`${label} ${line}`);
    });
  }
  return child;
});
say("gateway http://127.0.0.1:8080 · worker http://127.0.0.1:8081 · try: pnpm demo");

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    say("stopping");
    void Promise.all(children.map(stop))
      .then(stopPostgres)
      .then(() => process.exit(0));
  });
}

function tsx(service: string, entry: string, watch = false): string[] {
  const src = `services/${service}/src`;
  const preload = entry === "main.ts" ? ["--import", `./${src}/instrument.ts`] : [];
  return [
    "--conditions=source",
    "--import",
    "tsx",
    ...preload,
    ...(watch ? ["--watch"] : []),
    `${src}/${entry}`,
  ];
}

function run(args: string[], name: string): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ["ignore", "inherit", "inherit"] });
    child.on("exit", (code) => resolve(code));
    say(`migrating ${name}`);
  });
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
  });
}

async function redisAnswers(url: string): Promise<boolean> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 1_500,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  redis.on("error", () => {});
  try {
    await redis.connect();
    return (await redis.ping()) === "PONG";
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

function say(message: string): void {
  console.log(styleText("dim", `dev: ${message}`));
}
