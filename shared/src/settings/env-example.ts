import { ENVIRONMENTS, type SettingsContext } from "./context.js";
import { factsOf, type SettingsField } from "./fields.js";
import type { SettingsDefinition } from "./load.js";

/** One service's settings, as `.env.example` lists them. */
export interface ServiceSettings {
  service: string;
  definition: SettingsDefinition;
}

const CONTEXTS: readonly SettingsContext[] = ENVIRONMENTS.flatMap((environment) => [
  { environment, inKubernetes: false },
  { environment, inKubernetes: true },
]);
const LOCAL: SettingsContext = { environment: "development", inKubernetes: false };

const HEADER = `# ward settings for local development: copy to .env and adjust. The real environment wins over
# .env, and .env is never read when ENVIRONMENT is staging or production (nor ever committed).
# Every secret also accepts NAME_FILE: the path of a file that holds its value.
# Generated from the services' settings by scripts/env-example.ts; do not edit by hand.
`;

interface Variable {
  name: string;
  description?: string;
  secret: boolean;
  requiredWhen?: string;
  /** Per service, the default in each context: a value, "unset" or "required". */
  defaults: Map<string, string[]>;
  /** Per service, the field in local development. */
  local: Map<string, SettingsField>;
}

/**
 * The text of `.env.example` for the given services: every variable once, with a comment line
 * giving its description, services, whether it is secret, and its default. Variables required
 * in local development are left active (secrets with a `change-me-...` placeholder), the others
 * commented out with their default.
 *
 * @example
 * writeFileSync(".env.example", renderEnvExample([{ service: "gateway", definition: gatewaySettings }]));
 */
export function renderEnvExample(services: readonly ServiceSettings[]): string {
  const variables = new Map<string, Variable>();
  for (const { service, definition } of services) {
    for (const context of CONTEXTS) {
      for (const [name, field] of Object.entries(definition.fields(context))) {
        const facts = factsOf(field);
        const variable: Variable = variables.get(name) ?? {
          name,
          description: facts.description,
          secret: facts.secret === true,
          requiredWhen: facts.requiredWhen,
          defaults: new Map(),
          local: new Map(),
        };
        variables.set(name, variable);
        variable.defaults.set(service, [...(variable.defaults.get(service) ?? []), defaultOf(field)]);
        if (sameContext(context, LOCAL)) variable.local.set(service, field);
      }
    }
  }
  return [HEADER, ...[...variables.values()].map(render)].join("\n");
}

function render(variable: Variable): string {
  const { name, description, secret, requiredWhen, defaults, local } = variable;
  if (!description) throw new Error(`${name} has no description: add .describe("...") to its field`);
  const services = [...defaults.keys()];
  const byService = services.map((service) => describeDefault(defaults.get(service) ?? []));
  const defaultText =
    new Set(byService).size === 1
      ? byService[0]
      : byService.map((text, i) => `${text} (${services[i]})`).join(", ");
  const notes = [
    description,
    services.join(", "),
    ...(secret ? [`secret, or ${name}_FILE`] : []),
    `${defaultText === "required" ? "required" : `default: ${defaultText}`}${requiredWhen ? `; required when ${requiredWhen} is set` : ""}`,
  ];
  const fields = [...local.values()];
  const requiredLocally = fields.some((field) => defaultOf(field) === "required");
  const localDefaults = new Set(fields.map(defaultOf));
  const example = requiredLocally
    ? `${name}=${secret ? placeholder(name, fields) : ""}`
    : `# ${name}=${localDefaults.size === 1 ? valueText([...localDefaults][0]) : ""}`;
  return `# ${notes.join(" | ")}\n${example}\n`;
}

/** An obvious placeholder the fields accept, or "" when none fits (e.g. a URL). */
function placeholder(name: string, fields: SettingsField[]): string {
  const base = `change-me-${name.toLowerCase().replaceAll("_", "-")}`;
  const candidates = [base, `${base}-to-a-long-random-string`];
  return candidates.find((text) => fields.every((field) => field.safeParse(text).success)) ?? "";
}

function defaultOf(field: SettingsField): string {
  const result = field.safeParse(undefined);
  if (!result.success) return "required";
  if (result.data === undefined) return "unset";
  const items: unknown[] = Array.isArray(result.data) ? result.data : [result.data];
  return items.map((item) => (typeof item === "string" ? item : JSON.stringify(item))).join(",");
}

function valueText(text: string | undefined): string {
  return text === "unset" || text === undefined ? "" : text;
}

/** "5000 in Kubernetes, else 0", "redis://... in development, else required", or one value. */
function describeDefault(perContext: string[]): string {
  const phrase = (text: string | undefined) => (text === "" ? "none" : (text ?? ""));
  if (new Set(perContext).size === 1) return phrase(perContext[0]);
  const local = perContext.filter((_, i) => !CONTEXTS[i]?.inKubernetes);
  const cluster = perContext.filter((_, i) => CONTEXTS[i]?.inKubernetes);
  if (new Set(local).size === 1 && new Set(cluster).size === 1) {
    return `${phrase(cluster[0])} in Kubernetes, else ${phrase(local[0])}`;
  }
  const byEnvironment = ENVIRONMENTS.map((_, e) => perContext.slice(e * 2, e * 2 + 2));
  if (byEnvironment.every((pair) => pair[0] === pair[1])) {
    const values = byEnvironment.map((pair) => pair[0] ?? "");
    const usual = mostCommon(values);
    const special = ENVIRONMENTS.filter((_, e) => values[e] !== usual);
    const groups = [...new Set(special.map((env) => values[ENVIRONMENTS.indexOf(env)]))].map(
      (value) =>
        `${phrase(value)} in ${special.filter((env) => values[ENVIRONMENTS.indexOf(env)] === value).join(", ")}`,
    );
    return `${groups.join(", ")}, else ${phrase(usual)}`;
  }
  return CONTEXTS.map(
    (c, i) => `${phrase(perContext[i])} in ${c.environment}${c.inKubernetes ? " on Kubernetes" : ""}`,
  ).join(", ");
}

function mostCommon(values: string[]): string {
  const counts = new Map<string, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1])[0]?.[0] ?? "";
}

function sameContext(a: SettingsContext, b: SettingsContext): boolean {
  return a.environment === b.environment && a.inKubernetes === b.inKubernetes;
}
