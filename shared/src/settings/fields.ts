import { z } from "zod";

/**
 * What a settings field is: a zod schema that reads the raw environment string (`undefined`
 * when the variable is missing or empty) and returns the typed value: the coercers below, or any
 * zod schema of strings. `z.coerce.*` is refused at load: it turns "false" into true.
 */
export type SettingsField<T = unknown> = z.ZodType<T, string | undefined>;

interface FieldFacts {
  secret?: true;
  /** Another variable: when it is set, this one is required. */
  requiredWhen?: string;
}

// Our own registry, so the facts survive `.describe()`, `.min()` and friends (zod clones keep a
// link to their parent and registries look up through it).
const facts = z.registry<FieldFacts>();

/** Options shared by the coercers: a default, or `optional` for "may stay unset". */
export interface FieldOptions<T> {
  /** Used when the variable is missing or empty. `undefined` means required. */
  default?: T | undefined;
  /** Missing is fine: the value is then `undefined`. */
  optional?: boolean;
}

/**
 * Marks a field secret: its value never appears in errors or the `config_loaded` line, it may
 * come from a file named by `NAME_FILE`, and `secretValues()` hands it to log redaction.
 *
 * @example
 * JWT_SECRET: secret(text({ min: 32 })).describe("Key that signs user JWTs"),
 */
export function secret<S extends SettingsField>(schema: S): S {
  return withFacts(schema, { secret: true });
}

/**
 * Makes a field optional unless another variable is set, e.g. a signing secret that is needed
 * only when there is something to sign. The value is `undefined` when unset.
 *
 * @example
 * WEBHOOK_SIGNING_SECRET: secret(requiredWhen("WEBHOOK_URL", text({ min: 32 }))).describe("Signs webhooks"),
 */
export function requiredWhen<T>(variable: string, schema: SettingsField<T>): SettingsField<T | undefined> {
  return withFacts(schema.optional(), { requiredWhen: variable });
}

/**
 * A boolean: "true", "1", "yes", "on" are true; "false", "0", "no", "off" are false (any case);
 * anything else is an error.
 *
 * @example
 * API_DOCS: bool({ default: true }).describe("Serve the OpenAPI docs"),
 */
export function bool(options: FieldOptions<boolean> & { optional: true }): SettingsField<boolean | undefined>;
export function bool(options?: FieldOptions<boolean>): SettingsField<boolean>;
export function bool(options: FieldOptions<boolean> = {}): SettingsField<boolean | undefined> {
  const schema = z.string().transform((raw, ctx) => {
    const word = raw.trim().toLowerCase();
    if (TRUE_WORDS.has(word)) return true;
    if (FALSE_WORDS.has(word)) return false;
    ctx.addIssue({ code: "custom", message: "must be true or false (or 1/0, yes/no, on/off)" });
    return z.NEVER;
  });
  return finish(schema, options);
}

const TRUE_WORDS = new Set(["true", "1", "yes", "on"]);
const FALSE_WORDS = new Set(["false", "0", "no", "off"]);

/** Length bounds of `text()`, in characters; both inclusive. */
export interface TextOptions extends FieldOptions<string> {
  min?: number;
  max?: number;
}

/**
 * A string, taken as it is (not trimmed), optionally length-checked: what most secrets are.
 *
 * @example
 * JWT_SECRET: secret(text({ min: 32 })).describe("Key that signs user JWTs"),
 */
export function text(options: TextOptions & { optional: true }): SettingsField<string | undefined>;
export function text(options?: TextOptions): SettingsField<string>;
export function text(options: TextOptions = {}): SettingsField<string | undefined> {
  let schema = z.string();
  if (options.min !== undefined)
    schema = schema.min(options.min, `must be at least ${options.min} characters`);
  if (options.max !== undefined)
    schema = schema.max(options.max, `must be at most ${options.max} characters`);
  return finish(schema, options);
}

/** Bounds of `int()`; both inclusive. */
export interface IntOptions extends FieldOptions<number> {
  min?: number;
  max?: number;
}

/**
 * A whole number in decimal, range-checked. "" is missing (not 0); "1.5", "1e3" and "0x10" are errors.
 *
 * @example
 * MAX_ATTEMPTS: int({ min: 1, max: 100, default: 5 }).describe("Delivery attempts before a job is parked"),
 */
export function int(options: IntOptions & { optional: true }): SettingsField<number | undefined>;
export function int(options?: IntOptions): SettingsField<number>;
export function int(options: IntOptions = {}): SettingsField<number | undefined> {
  const min = options.min ?? Number.MIN_SAFE_INTEGER;
  const max = options.max ?? Number.MAX_SAFE_INTEGER;
  const message =
    options.min !== undefined && options.max !== undefined
      ? `must be an integer from ${min} to ${max}`
      : options.min !== undefined
        ? `must be an integer of at least ${min}`
        : options.max !== undefined
          ? `must be an integer of at most ${max}`
          : "must be an integer";
  const schema = z.string().transform((raw, ctx) => {
    const text = raw.trim();
    const value = /^[+-]?\d+$/.test(text) ? Number(text) : Number.NaN;
    if (Number.isSafeInteger(value) && value >= min && value <= max) return value;
    ctx.addIssue({ code: "custom", message });
    return z.NEVER;
  });
  return finish(schema, options);
}

/** Which URL schemes `url()` accepts, without the colon. Default `["http", "https"]`. */
export interface UrlOptions extends FieldOptions<string> {
  protocols?: readonly string[];
}

/**
 * An absolute URL with one of the given protocols, returned as the (trimmed) string it was given.
 *
 * @example
 * DATABASE_URL: secret(url({ protocols: ["postgres", "postgresql"] })).describe("PostgreSQL connection URL"),
 */
export function url(options: UrlOptions & { optional: true }): SettingsField<string | undefined>;
export function url(options?: UrlOptions): SettingsField<string>;
export function url(options: UrlOptions = {}): SettingsField<string | undefined> {
  const protocols = (options.protocols ?? ["http", "https"]).map((p) => `${p.replace(/:$/, "")}:`);
  const message = `must be a URL starting with ${protocols.map((p) => `${p}//`).join(" or ")}`;
  const schema = z.string().transform((raw, ctx) => {
    const text = raw.trim();
    if (protocols.includes(protocolOf(text))) return text;
    ctx.addIssue({ code: "custom", message });
    return z.NEVER;
  });
  return finish(schema, options);
}

function protocolOf(text: string): string {
  try {
    return new URL(text).protocol;
  } catch {
    return "";
  }
}

/** `of` checks (and may convert) each item of a `list()`. */
export interface ListOptions<T> extends FieldOptions<T[]> {
  of?: SettingsField<T>;
}

/**
 * A list, written either comma-separated (`a, b`) or as a JSON array of strings (`["a","b"]`).
 * Items are trimmed and empty ones dropped. Missing means an empty list unless a default is given.
 *
 * @example
 * CORS_ORIGINS: list({ of: url() }).describe("Origins allowed to call the API from a browser"),
 */
export function list<T = string>(options: ListOptions<T> = {}): SettingsField<T[]> {
  const item = options.of ?? (z.string() as unknown as SettingsField<T>);
  const schema = z.string().transform((raw, ctx) => {
    const items = splitList(raw);
    if (items === undefined) {
      ctx.addIssue({ code: "custom", message: "must be a comma-separated list or a JSON array of strings" });
      return z.NEVER;
    }
    const values: T[] = [];
    items.forEach((text, index) => {
      const result = item.safeParse(text);
      if (result.success) values.push(result.data);
      else ctx.addIssue({ code: "custom", message: `item ${index + 1} ${result.error.issues[0]?.message}` });
    });
    return values;
  });
  return finish(schema, { default: [], ...options }) as SettingsField<T[]>;
}

function splitList(raw: string): string[] | undefined {
  const text = raw.trim();
  if (!text.startsWith("[")) return text.split(",").flatMap((item) => item.trim() || []);
  try {
    const parsed: unknown = JSON.parse(text);
    if (Array.isArray(parsed) && parsed.every((item) => typeof item === "string")) {
      return parsed.flatMap((item) => item.trim() || []);
    }
  } catch {
    // not JSON: reported below like any other malformed list
  }
  return undefined;
}

/**
 * One of a fixed set of words, matched exactly (after trimming).
 *
 * @example
 * LOG_FORMAT: enumOf(["json", "pretty"], { default: "json" }).describe("Log output format"),
 */
export function enumOf<const V extends readonly [string, ...string[]]>(
  values: V,
  options: FieldOptions<V[number]> & { optional: true },
): SettingsField<V[number] | undefined>;
export function enumOf<const V extends readonly [string, ...string[]]>(
  values: V,
  options?: FieldOptions<V[number]>,
): SettingsField<V[number]>;
export function enumOf<const V extends readonly [string, ...string[]]>(
  values: V,
  options: FieldOptions<V[number]> = {},
): SettingsField<V[number] | undefined> {
  const allowed: readonly string[] = values;
  const message = `must be one of ${values.join(", ")}`;
  const schema = z.string().transform((raw, ctx): V[number] => {
    const text = raw.trim();
    if (allowed.includes(text)) return text;
    ctx.addIssue({ code: "custom", message });
    return z.NEVER;
  });
  return finish(schema, options);
}

function finish<T>(schema: SettingsField<T>, options: FieldOptions<T>): SettingsField<T | undefined> {
  if (options.default !== undefined) return schema.default(options.default as z.util.NoUndefined<T>);
  return options.optional ? schema.optional() : schema;
}

function withFacts<S extends SettingsField>(schema: S, added: FieldFacts): S {
  const copy = schema.clone(); // a clone keeps its parent's facts and description
  facts.add(copy, added);
  return copy;
}

/** Everything known about a field, looking through `.optional()`, `.default()` and other wrappers. */
export function factsOf(schema: z.ZodType): FieldFacts & { description?: string; coerces?: true } {
  const found: FieldFacts & { description?: string; coerces?: true } = {};
  let current: z.ZodType | undefined = schema;
  while (current) {
    const coerces = (current._zod.def as { coerce?: boolean }).coerce ? true : undefined;
    const own = { ...facts.get(current), description: z.globalRegistry.get(current)?.description, coerces };
    for (const [key, value] of Object.entries(own)) {
      if (value !== undefined && !(key in found)) Object.assign(found, { [key]: value });
    }
    current = innerOf(current);
  }
  return found;
}

function innerOf(schema: z.ZodType): z.ZodType | undefined {
  const def = schema._zod.def as { innerType?: z.ZodType; in?: z.ZodType; type: string };
  return def.innerType ?? (def.type === "pipe" ? def.in : undefined);
}
