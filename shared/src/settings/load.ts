import { writeSync } from "node:fs";
import { resolve } from "node:path";
import type { z } from "zod";
import { DEPLOYED, contextOf, type SettingsContext } from "./context.js";
import { factsOf, type SettingsField } from "./fields.js";
import { type Layer, lookup, present, readDotenv, readSecret } from "./sources.js";

/** A service's fields, keyed by environment variable name. */
export type SettingsShape = Record<string, SettingsField>;

/** What `defineSettings` returns: the fields of a service for any context. */
export interface SettingsDefinition<S extends SettingsShape = SettingsShape> {
  readonly fields: (context: SettingsContext) => S;
}

type Frozen<T> = T extends readonly (infer U)[]
  ? readonly Frozen<U>[]
  : T extends object
    ? { readonly [K in keyof T]: Frozen<T[K]> }
    : T;

/** The loaded settings of a definition: typed values keyed by variable name, deep-frozen. */
export type Settings<D extends SettingsDefinition> =
  D extends SettingsDefinition<infer S> ? { readonly [K in keyof S]: Frozen<z.output<S[K]>> } : never;

/** One offending variable and what is wrong with it (never its secret value). */
export interface SettingsProblem {
  readonly variable: string;
  readonly problem: string;
}

/**
 * Every problem found while loading settings, in one message:
 * `Invalid settings:\n  - JWT_SECRET: required\n  - PORT: must be an integer from 1 to 65535 (got "http")`.
 *
 * @example
 * try { loadSettings(gatewaySettings) } catch (error) { if (error instanceof SettingsError) error.problems }
 */
export class SettingsError extends Error {
  override readonly name = "SettingsError";
  readonly problems: readonly SettingsProblem[];

  constructor(problems: readonly SettingsProblem[]) {
    super(["Invalid settings:", ...problems.map((p) => `  - ${p.variable}: ${p.problem}`)].join("\n"));
    this.problems = Object.freeze(problems.map((p) => Object.freeze({ ...p })));
  }
}

/** Where settings are read from; the defaults are the real ones. */
export interface LoadOptions {
  /** The real environment. Default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Base for a relative `.env` path and `NAME_FILE` paths. Default `process.cwd()`. */
  cwd?: string;
  /** The dotenv file, or `false` for none. Default `.env` (fine when missing). */
  envFile?: string | false;
}

/**
 * Declares a service's settings, from shared pieces and its own fields. Pass a function of the
 * context when a default depends on ENVIRONMENT or on running in Kubernetes.
 *
 * @example
 * export const gatewaySettings = defineSettings((ctx) => ({
 *   ...server(ctx, { port: 8080 }), ...logging(), ...postgres(), ...redis(ctx), ...sentry(), ...workerToken(),
 *   JWT_SECRET: secret(z.string().min(32, "must be at least 32 characters")).describe("Key that signs JWTs"),
 * }));
 */
export function defineSettings<S extends SettingsShape>(
  fields: S | ((context: SettingsContext) => S),
): SettingsDefinition<S> {
  return { fields: typeof fields === "function" ? fields : () => fields };
}

const loaded = new WeakMap<object, { secrets: readonly string[] }>();

/**
 * Reads settings once: real environment, then the `.env` file (never when the real environment
 * says ENVIRONMENT=staging or production), then defaults. Secrets may come from `NAME_FILE`.
 * Returns the values deep-frozen; throws one `SettingsError` naming every offending variable.
 *
 * @example
 * const settings = loadSettings(gatewaySettings);
 * serve({ fetch: app.fetch, port: settings.PORT });
 */
export function loadSettings<D extends SettingsDefinition>(
  definition: D,
  options: LoadOptions = {},
): Settings<D> {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const problems: SettingsProblem[] = [];
  const layers: Layer[] = [env];
  const environment = present(env.ENVIRONMENT)?.trim();
  if (options.envFile !== false && !DEPLOYED.has(environment ?? "")) {
    const file = options.envFile ?? ".env";
    const dotenv = readDotenv(resolve(cwd, file), options.envFile !== undefined);
    if ("layer" in dotenv) layers.push(dotenv.layer);
    else problems.push({ variable: file, problem: dotenv.problem });
  }
  const context = contextOf(lookup(layers, "ENVIRONMENT"), lookup(layers, "KUBERNETES_SERVICE_HOST"));
  const fields = definition.fields(context);

  const raw: Record<string, string | undefined> = {};
  const values: Record<string, unknown> = {};
  const failed = new Set<string>();
  const secrets: string[] = [];
  for (const [name, field] of Object.entries(fields)) {
    const { secret, coerces } = factsOf(field);
    // z.coerce turns "false" into true: a mistake in the definition, not in the environment.
    if (coerces) throw new Error(`${name} uses z.coerce; use bool(), int() or another settings field`);
    const isSecret = secret === true;
    if (isSecret) secrets.push(name);
    const source = isSecret ? readSecret(layers, name, cwd) : { value: lookup(layers, name) };
    if (!("value" in source)) {
      problems.push(source);
      failed.add(name);
      continue;
    }
    raw[name] = source.value;
    const result = field.safeParse(source.value);
    if (result.success) {
      values[name] = result.data;
    } else {
      problems.push({ variable: name, problem: problemOf(source.value, result.error, isSecret) });
      failed.add(name);
    }
  }

  for (const [name, field] of Object.entries(fields)) {
    if (failed.has(name)) continue;
    const { requiredWhen, secret } = factsOf(field);
    if (requiredWhen !== undefined) {
      if (!(requiredWhen in fields))
        throw new Error(`${name} is required when ${requiredWhen}, which is no setting`);
      if (values[name] === undefined && values[requiredWhen] !== undefined) {
        problems.push({ variable: name, problem: `required when ${requiredWhen} is set` });
      }
    }
    if (secret && DEPLOYED.has(context.environment) && raw[name]?.startsWith("change-me")) {
      problems.push({ variable: name, problem: `is still the placeholder from .env.example` });
    }
  }

  if (problems.length > 0)
    throw new SettingsError(
      scrubbed(
        problems,
        secrets.map((name) => raw[name]),
      ),
    );
  const settings = deepFreeze(values);
  loaded.set(settings, { secrets: Object.freeze(secrets) });
  return settings as Settings<D>;
}

/**
 * `loadSettings` for a service's main: on bad settings it writes one JSON line to stderr
 * (`event: "config_invalid"`, with `errors: [{ variable, problem }]`) and exits with 78 (EX_CONFIG).
 *
 * @example
 * const settings = loadSettingsOrExit(gatewaySettings, { service: "gateway" });
 */
export function loadSettingsOrExit<D extends SettingsDefinition>(
  definition: D,
  options: LoadOptions & { service: string },
): Settings<D> {
  try {
    return loadSettings(definition, options);
  } catch (error) {
    if (!(error instanceof SettingsError)) throw error;
    const line = {
      ts: new Date().toISOString(),
      level: "fatal",
      service: options.service,
      event: "config_invalid",
      message: error.message,
      errors: error.problems,
    };
    writeSync(2, `${JSON.stringify(line)}\n`);
    process.exit(EX_CONFIG);
  }
}

/** sysexits.h: "configuration error". */
const EX_CONFIG = 78;

/**
 * The live values of every secret setting that is set, for log redaction wherever they appear.
 *
 * @example
 * const logger = createLogger({ ..., secrets: secretValues(settings) });
 */
export function secretValues(settings: object): string[] {
  const values = settings as Record<string, unknown>;
  const found = secretNamesOf(settings).flatMap((name) => {
    const value = values[name];
    const items: unknown[] = value === undefined ? [] : Array.isArray(value) ? value : [value];
    return items.map((item) => (typeof item === "string" ? item : JSON.stringify(item)));
  });
  return [...new Set(found)];
}

/**
 * Every setting as a plain object for the one `config_loaded` log line; secrets show only as
 * "set" or "unset".
 *
 * @example
 * logger.info({ settings: summarizeSettings(settings) }, "config_loaded");
 */
export function summarizeSettings(settings: object): Record<string, unknown> {
  const secrets = new Set(secretNamesOf(settings));
  return Object.fromEntries(
    Object.entries(settings).map(([name, value]) => [
      name,
      secrets.has(name) ? (value === undefined ? "unset" : "set") : value,
    ]),
  );
}

function secretNamesOf(settings: object): readonly string[] {
  const facts = loaded.get(settings);
  if (!facts) throw new TypeError("not settings returned by loadSettings()");
  return facts.secrets;
}

function problemOf(raw: string | undefined, error: z.ZodError, isSecret: boolean): string {
  if (raw === undefined) return "required";
  const text = [...new Set(error.issues.map((issue) => issue.message))].join("; ");
  return isSecret ? text : `${text} (got ${quoted(raw)})`;
}

function quoted(raw: string): string {
  return JSON.stringify(raw.length > 40 ? `${raw.slice(0, 40)}…` : raw);
}

// A service's own error messages might quote a value; secrets must not survive even that.
function scrubbed(problems: SettingsProblem[], secrets: (string | undefined)[]): SettingsProblem[] {
  const needles = secrets.filter((s): s is string => s !== undefined && s.length >= 4);
  return problems.map(({ variable, problem }) => ({
    variable,
    problem: needles.reduce((text, needle) => text.replaceAll(needle, "[redacted]"), problem),
  }));
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.values(value).forEach(deepFreeze);
    Object.freeze(value);
  }
  return value;
}
