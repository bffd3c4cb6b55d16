import type { SettingsContext } from "./context.js";
import { factsOf } from "./fields.js";
import type { SettingsDefinition } from "./load.js";

/** One setting as a deployment sees it: what to supply, and how. */
export interface SettingDescription {
  /** The environment variable. */
  readonly name: string;
  /** Never logged; may also come from the file named by `<name>_FILE`. */
  readonly secret: boolean;
  /** The service refuses to start without it: no default and not optional, in this context. */
  readonly required: boolean;
  /** The value used when it is unset, as loaded (a number for `int()`, a list for `list()`), if any. */
  readonly default: unknown;
  /** Another variable: when that one is set, this one is required too. */
  readonly requiredWhen?: string;
  readonly description?: string;
}

/**
 * Every setting of a definition in a given context, in declaration order: for checking a
 * deployment (a Helm chart, a manifest) against what the service really reads.
 *
 * @example
 * const settings = describeSettings(gatewaySettings, { environment: "production", inKubernetes: true });
 * settings.filter((s) => s.required).map((s) => s.name); // ["DATABASE_URL", "REDIS_URL", ...]
 */
export function describeSettings(
  definition: SettingsDefinition,
  context: SettingsContext,
): SettingDescription[] {
  return Object.entries(definition.fields(context)).map(([name, field]) => {
    const { secret, requiredWhen, description } = factsOf(field);
    // A field's schema reads `undefined` for a missing variable: it fails, or yields the default.
    const unset = field.safeParse(undefined);
    return {
      name,
      secret: secret === true,
      required: !unset.success,
      default: unset.success ? unset.data : undefined,
      ...(requiredWhen === undefined ? {} : { requiredWhen }),
      ...(description === undefined ? {} : { description }),
    };
  });
}
