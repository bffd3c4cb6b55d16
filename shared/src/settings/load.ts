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
 *   JWT_SECRET: secret(text({ min: 32 })).describe("Key that signs user JWTs"),
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
  const cwd = options.cwd ?? process.cwd();
  const { layers, problems } = readLayers(options.env ?? process.env, cwd, options.envFile);
  const context = contextOf(lookup(layers, "ENVIRONMENT"), lookup(layers, "KUBERNETES_SERVICE_HOST"));
  const fields = Object.entries(definition.fields(context)).map(([name, schema]) =>
    readField(name, schema, layers, cwd),
  );
  problems.push(...fields.flatMap((field) => field.problem ?? []), ...crossFieldProblems(fields, context));
  const secrets = fields.filter((field) => field.secret);
  if (problems.length > 0)
    throw new SettingsError(
      scrubbed(
        problems,
        secrets.map((field) => field.raw),
      ),
    );

  const settings = deepFreeze(Object.fromEntries(fields.map((field) => [field.name, field.value])));
  loaded.set(settings, { secrets: Object.freeze(secrets.map((field) => field.name)) });
  return settings as Settings<D>;
}

/** The real environment, then the `.env` file unless the real environment says it is deployed. */
function readLayers(env: Layer, cwd: string, envFile: string | false | undefined) {
  const layers: Layer[] = [env];
  const problems: SettingsProblem[] = [];
  if (envFile !== false && !DEPLOYED.has(present(env.ENVIRONMENT)?.trim() ?? "")) {
    const dotenv = readDotenv(resolve(cwd, envFile ?? ".env"), envFile !== undefined);
    if ("layer" in dotenv) layers.push(dotenv.layer);
    else problems.push({ variable: envFile ?? ".env", problem: dotenv.problem });
  }
  return { layers, problems };
}

interface ReadField {
  name: string;
  secret: boolean;
  requiredWhen?: string | undefined;
  raw?: string | undefined;
  value?: unknown;
  problem?: SettingsProblem;
}

function readField(name: string, schema: SettingsField, layers: readonly Layer[], cwd: string): ReadField {
  const { secret = false, requiredWhen, coerces } = factsOf(schema);
  // z.coerce turns "false" into true: a mistake in the definition, not in the environment.
  if (coerces) throw new Error(`${name} uses z.coerce; use bool(), int() or another settings field`);
  const source = secret ? readSecret(layers, name, cwd) : { value: lookup(layers, name) };
  if (!("value" in source)) return { name, secret, problem: source };
  const result = schema.safeParse(source.value);
  if (result.success) return { name, secret, requiredWhen, raw: source.value, value: result.data };
  const problem = problemOf(source.value, result.error, secret);
  return { name, secret, raw: source.value, problem: { variable: name, problem } };
}

function crossFieldProblems(fields: readonly ReadField[], context: SettingsContext): SettingsProblem[] {
  const byName = new Map(fields.map((field) => [field.name, field]));
  return fields.flatMap(({ name, secret, requiredWhen, raw, value, problem }) => {
    if (problem) return [];
    if (requiredWhen !== undefined) {
      const other = byName.get(requiredWhen);
      if (!other) throw new Error(`${name} is required when ${requiredWhen} is set, which is no setting`);
      if (value === undefined && other.value !== undefined) {
        return [{ variable: name, problem: `required when ${requiredWhen} is set` }];
      }
    }
    if (secret && DEPLOYED.has(context.environment) && raw?.startsWith("change-me")) {
      return [{ variable: name, problem: "is still the placeholder from .env.example" }];
    }
    return [];
  });
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
