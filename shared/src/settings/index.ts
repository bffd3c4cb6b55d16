export { ENVIRONMENTS, type Environment, type SettingsContext } from "./context.js";
export {
  bool,
  enumOf,
  int,
  list,
  requiredWhen,
  secret,
  text,
  url,
  type FieldOptions,
  type IntOptions,
  type ListOptions,
  type SettingsField,
  type TextOptions,
  type UrlOptions,
} from "./fields.js";
export {
  SettingsError,
  defineSettings,
  loadSettings,
  loadSettingsOrExit,
  secretValues,
  summarizeSettings,
  type LoadOptions,
  type Settings,
  type SettingsDefinition,
  type SettingsProblem,
  type SettingsShape,
} from "./load.js";
export {
  environment,
  logging,
  postgres,
  redis,
  sentry,
  server,
  workerToken,
  type ServerOptions,
} from "./pieces.js";
export { renderEnvExample, type ServiceSettings } from "./env-example.js";
export { describeSettings, type SettingDescription } from "./describe.js";
