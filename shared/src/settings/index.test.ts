import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import {
  SettingsError,
  bool,
  defineSettings,
  enumOf,
  int,
  list,
  loadSettings,
  logging,
  postgres,
  redis,
  renderEnvExample,
  requiredWhen,
  secret,
  secretValues,
  sentry,
  server,
  summarizeSettings,
  text,
  url,
  workerToken,
} from "./index.js";

const JWT = "jwt-secret-for-tests-only-0123456789";
const TOKEN = "worker-token-for-tests-only-0123456789";
const DB = "postgres://app:change-me-db-password-for-tests@127.0.0.1:5432/ward";

const gatewaySettings = defineSettings((ctx) => ({
  ...server(ctx, { port: 8080 }),
  ...logging(),
  ...postgres(),
  ...redis(ctx),
  ...sentry(),
  ...workerToken(),
  JWT_SECRET: secret(text({ min: 32 })).describe("Key that signs user JWTs"),
  WORKER_URL: url({ default: ctx.environment === "development" ? "http://127.0.0.1:8081" : undefined }),
  CORS_ORIGINS: list({ of: url() }),
}));

const workerSettings = defineSettings((ctx) => ({
  ...server(ctx, { port: 8081 }),
  WEBHOOK_URL: url({ optional: true }),
  WEBHOOK_SIGNING_SECRET: secret(requiredWhen("WEBHOOK_URL", text({ min: 32 }))),
  MAX_ATTEMPTS: int({ min: 1, max: 100, default: 5 }),
}));

const flags = defineSettings({ API_DOCS: bool({ default: true }), STRICT: bool() });

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "ward-settings-"));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** The required gateway variables, plus any overrides. */
function gatewayEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { DATABASE_URL: DB, JWT_SECRET: JWT, WORKER_TOKEN: TOKEN, ...extra };
}

function loadGateway(env: Record<string, string | undefined>) {
  return loadSettings(gatewaySettings, { env, cwd: dir });
}

function errorOf(load: () => unknown): SettingsError {
  try {
    load();
  } catch (error) {
    if (error instanceof SettingsError) return error;
    throw error;
  }
  throw new Error("settings loaded without error");
}

describe("loadSettings", () => {
  it("returns typed values with the defaults filled in", () => {
    const settings = loadGateway(gatewayEnv());
    expect(settings).toEqual({
      PORT: 8080,
      ENVIRONMENT: "development",
      SLOW_REQUEST_MS: 500,
      SHUTDOWN_DELAY_MS: 0,
      SHUTDOWN_TIMEOUT_MS: 25_000,
      LOG_LEVEL: "info",
      LOG_FORMAT: "json",
      DATABASE_URL: DB,
      REDIS_URL: "redis://127.0.0.1:6379",
      REDIS_KEY_PREFIX: "ward:",
      SENTRY_DSN: undefined,
      WORKER_TOKEN: TOKEN,
      JWT_SECRET: JWT,
      WORKER_URL: "http://127.0.0.1:8081",
      CORS_ORIGINS: [],
    });
  });

  it("names every offending variable in one message", () => {
    const error = errorOf(() =>
      loadGateway({ DATABASE_URL: DB, WORKER_TOKEN: TOKEN, PORT: "99999", LOG_LEVEL: "loud" }),
    );
    expect(error.message).toBe(
      [
        "Invalid settings:",
        '  - PORT: must be an integer from 1 to 65535 (got "99999")',
        '  - LOG_LEVEL: must be one of debug, info, warn, error, fatal (got "loud")',
        "  - JWT_SECRET: required",
      ].join("\n"),
    );
    expect(error.problems.map((p) => p.variable)).toEqual(["PORT", "LOG_LEVEL", "JWT_SECRET"]);
  });

  it("never puts a secret value in the message", () => {
    const planted = "s3cr3t-10c";
    const error = errorOf(() => loadGateway(gatewayEnv({ JWT_SECRET: planted, DATABASE_URL: "mysql://x" })));
    expect(error.message).toContain("JWT_SECRET: must be at least 32 characters");
    expect(error.message).toContain("DATABASE_URL: must be a URL starting with postgres:// or postgresql://");
    expect(error.message).not.toContain(planted);
    expect(error.message).not.toContain("mysql");
  });

  it("escapes and shortens a quoted bad value", () => {
    const error = errorOf(() => loadGateway(gatewayEnv({ WORKER_URL: `not a url\n${"x".repeat(100)}` })));
    expect(error.message).toContain(`(got "not a url\\n${"x".repeat(30)}…")`);
    expect(error.message.split("\n")).toHaveLength(2);
  });

  it("reads false, 0, no and off as false", () => {
    for (const word of ["false", "0", "no", "off", "FALSE", " Off "]) {
      expect(loadSettings(flags, { env: { STRICT: word }, cwd: dir }).STRICT).toBe(false);
    }
  });

  it("reads true, 1, yes and on as true", () => {
    for (const word of ["true", "1", "yes", "on", "True"]) {
      expect(loadSettings(flags, { env: { STRICT: word }, cwd: dir }).STRICT).toBe(true);
    }
  });

  it("treats an empty boolean as missing", () => {
    expect(loadSettings(flags, { env: { STRICT: "no", API_DOCS: "" }, cwd: dir }).API_DOCS).toBe(true);
    expect(errorOf(() => loadSettings(flags, { env: { STRICT: "" }, cwd: dir })).message).toContain(
      "STRICT: required",
    );
  });

  it("refuses any other boolean word", () => {
    expect(errorOf(() => loadSettings(flags, { env: { STRICT: "maybe" }, cwd: dir })).message).toContain(
      'STRICT: must be true or false (or 1/0, yes/no, on/off) (got "maybe")',
    );
  });

  it("treats an empty number as missing, not 0", () => {
    expect(loadGateway(gatewayEnv({ PORT: "", SLOW_REQUEST_MS: "  " })).PORT).toBe(8080);
    const attempts = defineSettings({ MAX_ATTEMPTS: int({ min: 1 }) });
    expect(errorOf(() => loadSettings(attempts, { env: { MAX_ATTEMPTS: "" }, cwd: dir })).message).toContain(
      "MAX_ATTEMPTS: required",
    );
  });

  it("refuses numbers out of range or not whole", () => {
    for (const bad of ["0", "65536", "-1", "1.5", "1e3", "0x50", "80abc"]) {
      expect(errorOf(() => loadGateway(gatewayEnv({ PORT: bad }))).problems).toEqual([
        { variable: "PORT", problem: `must be an integer from 1 to 65535 (got "${bad}")` },
      ]);
    }
  });

  it("reads a list from comma-separated values", () => {
    const origins = loadGateway(gatewayEnv({ CORS_ORIGINS: "https://a.example, https://b.example,," }));
    expect(origins.CORS_ORIGINS).toEqual(["https://a.example", "https://b.example"]);
  });

  it("reads a list from a JSON array", () => {
    const origins = loadGateway(gatewayEnv({ CORS_ORIGINS: '["https://a.example","https://b.example"]' }));
    expect(origins.CORS_ORIGINS).toEqual(["https://a.example", "https://b.example"]);
  });

  it("refuses a malformed list or a bad item", () => {
    expect(errorOf(() => loadGateway(gatewayEnv({ CORS_ORIGINS: "[1, 2]" }))).problems[0]?.problem).toMatch(
      /^must be a comma-separated list or a JSON array of strings/,
    );
    expect(
      errorOf(() => loadGateway(gatewayEnv({ CORS_ORIGINS: "https://a.example,ftp://b" }))).problems[0]
        ?.problem,
    ).toMatch(/^item 2 must be a URL starting with http:\/\/ or https:\/\//);
  });

  it("checks enums exactly", () => {
    expect(errorOf(() => loadGateway(gatewayEnv({ LOG_FORMAT: "yaml" }))).problems).toEqual([
      { variable: "LOG_FORMAT", problem: 'must be one of json, pretty (got "yaml")' },
    ]);
  });

  it("defaults REDIS_URL and WORKER_URL only in development", () => {
    const error = errorOf(() => loadGateway(gatewayEnv({ ENVIRONMENT: "staging" })));
    expect(error.problems).toEqual([
      { variable: "REDIS_URL", problem: "required" },
      { variable: "WORKER_URL", problem: "required" },
    ]);
  });

  it("waits 5 s before shutdown in Kubernetes and not at all elsewhere", () => {
    expect(loadGateway(gatewayEnv({ KUBERNETES_SERVICE_HOST: "10.0.0.1" })).SHUTDOWN_DELAY_MS).toBe(5000);
    expect(loadGateway(gatewayEnv()).SHUTDOWN_DELAY_MS).toBe(0);
  });

  it("requires the webhook signing secret only when a webhook is set", () => {
    const env = { ENVIRONMENT: "test", WEBHOOK_URL: "https://hooks.example/ward" };
    expect(
      loadSettings(workerSettings, { env: { ENVIRONMENT: "test" }, cwd: dir }).WEBHOOK_SIGNING_SECRET,
    ).toBe(undefined);
    expect(errorOf(() => loadSettings(workerSettings, { env, cwd: dir })).problems).toEqual([
      { variable: "WEBHOOK_SIGNING_SECRET", problem: "required when WEBHOOK_URL is set" },
    ]);
  });

  it("refuses requiredWhen naming no setting", () => {
    const broken = defineSettings({ SIGNING_KEY: requiredWhen("WEBHOOK", text()) });
    expect(() => loadSettings(broken, { env: {}, cwd: dir })).toThrow("which is no setting");
  });

  it("refuses the .env.example placeholders outside development and test", () => {
    const env = gatewayEnv({
      ENVIRONMENT: "production",
      REDIS_URL: "redis://redis:6379",
      WORKER_URL: "http://worker:8081",
      JWT_SECRET: "change-me-jwt-secret-to-a-long-random-string",
    });
    expect(errorOf(() => loadGateway(env)).problems).toEqual([
      { variable: "JWT_SECRET", problem: "is still the placeholder from .env.example" },
    ]);
  });

  it("returns a deep-frozen object", () => {
    const settings = loadGateway(gatewayEnv({ CORS_ORIGINS: "https://a.example" }));
    expect(Object.isFrozen(settings)).toBe(true);
    expect(Object.isFrozen(settings.CORS_ORIGINS)).toBe(true);
    expect(() => Object.assign(settings, { PORT: 1 })).toThrow(TypeError);
  });

  it("refuses a definition that uses z.coerce", () => {
    const coerced = defineSettings({ DEBUG: z.coerce.boolean() });
    expect(() => loadSettings(coerced, { env: {}, cwd: dir })).toThrow("DEBUG uses z.coerce");
  });

  it("reads the environment again on every call", () => {
    expect(loadGateway(gatewayEnv({ PORT: "9000" })).PORT).toBe(9000);
    expect(loadGateway(gatewayEnv({ PORT: "9001" })).PORT).toBe(9001);
  });
});

describe("NAME_FILE", () => {
  it("reads a secret from the file it names, without the trailing newline", () => {
    writeFileSync(join(dir, "jwt"), `${JWT}\n`);
    const settings = loadGateway({
      ...gatewayEnv(),
      JWT_SECRET: undefined,
      JWT_SECRET_FILE: join(dir, "jwt"),
    });
    expect(settings.JWT_SECRET).toBe(JWT);
  });

  it("resolves a relative path against the working directory", () => {
    writeFileSync(join(dir, "token"), TOKEN);
    expect(loadGateway({ ...gatewayEnv(), WORKER_TOKEN: "", WORKER_TOKEN_FILE: "token" }).WORKER_TOKEN).toBe(
      TOKEN,
    );
  });

  it("refuses NAME and NAME_FILE together", () => {
    writeFileSync(join(dir, "jwt"), JWT);
    const error = errorOf(() => loadGateway(gatewayEnv({ JWT_SECRET_FILE: join(dir, "jwt") })));
    expect(error.problems).toEqual([
      { variable: "JWT_SECRET", problem: "set either JWT_SECRET or JWT_SECRET_FILE, not both" },
    ]);
  });

  it("names the variable and the path of a file it cannot read", () => {
    const path = join(dir, "missing");
    const error = errorOf(() =>
      loadGateway({ ...gatewayEnv(), JWT_SECRET: undefined, JWT_SECRET_FILE: path }),
    );
    expect(error.problems).toEqual([
      { variable: "JWT_SECRET_FILE", problem: `cannot read ${JSON.stringify(path)} (ENOENT)` },
    ]);
  });

  it("is not read for settings that are not secret", () => {
    writeFileSync(join(dir, "port"), "9000");
    expect(loadGateway(gatewayEnv({ PORT_FILE: join(dir, "port") })).PORT).toBe(8080);
  });
});

describe(".env", () => {
  it("fills in what the real environment lacks, and defaults fill in the rest", () => {
    writeFileSync(join(dir, ".env"), `# local\nPORT=9000\nLOG_LEVEL=debug\nJWT_SECRET="${JWT}"\n`);
    const settings = loadGateway({ DATABASE_URL: DB, WORKER_TOKEN: TOKEN, PORT: "9100" });
    expect(settings.PORT).toBe(9100);
    expect(settings.LOG_LEVEL).toBe("debug");
    expect(settings.JWT_SECRET).toBe(JWT);
    expect(settings.LOG_FORMAT).toBe("json");
  });

  it("is ignored when the real environment says ENVIRONMENT=production", () => {
    writeFileSync(join(dir, ".env"), `JWT_SECRET=${JWT}\nLOG_LEVEL=debug\n`);
    const env = {
      ENVIRONMENT: "production",
      DATABASE_URL: DB,
      WORKER_TOKEN: TOKEN,
      REDIS_URL: "redis://redis:6379",
      WORKER_URL: "http://worker:8081",
    };
    expect(errorOf(() => loadGateway(env)).problems).toEqual([
      { variable: "JWT_SECRET", problem: "required" },
    ]);
    expect(loadGateway({ ...env, JWT_SECRET: JWT }).LOG_LEVEL).toBe("info");
  });

  it("may set ENVIRONMENT, which then picks the defaults", () => {
    writeFileSync(join(dir, ".env"), "ENVIRONMENT=staging\n");
    expect(errorOf(() => loadGateway(gatewayEnv())).problems.map((p) => p.variable)).toEqual([
      "REDIS_URL",
      "WORKER_URL",
    ]);
  });

  it("is read from the path given", () => {
    writeFileSync(join(dir, "local.env"), "PORT=9200\n");
    expect(loadSettings(gatewaySettings, { env: gatewayEnv(), cwd: dir, envFile: "local.env" }).PORT).toBe(
      9200,
    );
  });

  it("must exist when its path is given", () => {
    const error = errorOf(() =>
      loadSettings(gatewaySettings, { env: gatewayEnv(), cwd: dir, envFile: "nope" }),
    );
    expect(error.problems).toEqual([
      { variable: "nope", problem: `cannot read ${JSON.stringify(join(dir, "nope"))} (ENOENT)` },
    ]);
  });

  it("reports a .env it cannot read", () => {
    mkdirSync(join(dir, ".env"));
    expect(errorOf(() => loadGateway(gatewayEnv())).problems).toEqual([
      { variable: ".env", problem: `cannot read ${JSON.stringify(join(dir, ".env"))} (EISDIR)` },
    ]);
  });
});

describe("summarizeSettings and secretValues", () => {
  it("shows every setting, secrets only as set or unset", () => {
    const summary = summarizeSettings(loadGateway(gatewayEnv()));
    expect(summary).toMatchObject({
      PORT: 8080,
      DATABASE_URL: "set",
      JWT_SECRET: "set",
      SENTRY_DSN: "unset",
      WORKER_URL: "http://127.0.0.1:8081",
      CORS_ORIGINS: [],
    });
    expect(JSON.stringify(summary)).not.toContain(JWT);
  });

  it("lists the live values of the secrets that are set", () => {
    expect(secretValues(loadGateway(gatewayEnv())).sort()).toEqual(
      [DB, "redis://127.0.0.1:6379", TOKEN, JWT].sort(),
    );
  });

  it("refuses objects that loadSettings did not return", () => {
    expect(() => summarizeSettings({ PORT: 8080 })).toThrow(TypeError);
  });
});

describe("loadSettingsOrExit", () => {
  const script = fileURLToPath(new URL("fixtures/exit-on-bad-settings.ts", import.meta.url));
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
  const run = (env: Record<string, string>) =>
    spawnSync(process.execPath, ["--conditions=source", "--import", tsx, script], {
      cwd: dir,
      env: { PATH: process.env.PATH, ...env },
      encoding: "utf8",
    });

  it("exits 78 with one JSON line on stderr and no secret", () => {
    const planted = "short-s3cr3t";
    const result = run({ JWT_SECRET: planted, PORT: "http" });
    expect(result.status).toBe(78);
    expect(result.stdout).toBe("");
    const lines = result.stderr.trimEnd().split("\n");
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0] ?? "") as Record<string, unknown>;
    expect(line).toMatchObject({
      level: "fatal",
      service: "gateway",
      event: "config_invalid",
      errors: [
        { variable: "PORT", problem: 'must be an integer from 1 to 65535 (got "http")' },
        { variable: "JWT_SECRET", problem: "must be at least 32 characters" },
      ],
    });
    expect(new Date(line.ts as string).toISOString()).toBe(line.ts);
    expect(result.stderr).not.toContain(planted);
  });

  it("returns the settings when they are good", () => {
    const result = run({ JWT_SECRET: JWT, PORT: "9300" });
    expect(result.stderr).toBe("");
    expect(result.stdout).toBe("listening on 9300\n");
    expect(result.status).toBe(0);
  });
});

describe("renderEnvExample", () => {
  const services = [
    { service: "gateway", definition: gatewaySettings },
    { service: "worker", definition: workerSettings },
  ];

  it("refuses a field without a description", () => {
    expect(() => renderEnvExample(services)).toThrow("WORKER_URL has no description");
  });

  it("documents each variable once: description, services, secret, default", () => {
    const described = defineSettings((ctx) => ({
      ...server(ctx, { port: 8081 }),
      ...redis(ctx),
      WEBHOOK_URL: url({ optional: true }).describe("Where deliveries go"),
      WEBHOOK_SIGNING_SECRET: secret(requiredWhen("WEBHOOK_URL", text({ min: 32 }))).describe(
        "Signs webhooks",
      ),
      MODE: enumOf(["a", "b"], { default: ctx.environment === "production" ? "b" : "a" }).describe("A mode"),
    }));
    const gateway = defineSettings((ctx) => ({ ...server(ctx, { port: 8080 }), ...workerToken() }));
    const example = renderEnvExample([
      { service: "gateway", definition: gateway },
      { service: "worker", definition: described },
    ]);
    expect(example).toContain(
      "# TCP port the HTTP server listens on | gateway, worker | default: 8080 (gateway), 8081 (worker)\n# PORT=\n",
    );
    expect(example).toContain("| default: 5000 in Kubernetes, else 0\n# SHUTDOWN_DELAY_MS=0\n");
    expect(example).toContain(
      "| worker | secret, or REDIS_URL_FILE | default: redis://127.0.0.1:6379 in development, else required\n" +
        "# REDIS_URL=redis://127.0.0.1:6379\n",
    );
    expect(example).toContain(
      "# Signs webhooks | worker | secret, or WEBHOOK_SIGNING_SECRET_FILE | default: unset; " +
        "required when WEBHOOK_URL is set\n# WEBHOOK_SIGNING_SECRET=\n",
    );
    expect(example).toContain("# A mode | worker | default: b in production, else a\n# MODE=a\n");
    expect(example).toContain(
      "| gateway | secret, or WORKER_TOKEN_FILE | required\nWORKER_TOKEN=change-me-worker-token-to-a-long-random-string\n",
    );
    expect(example.match(/^# PORT=/gm)).toHaveLength(1);
  });
});
