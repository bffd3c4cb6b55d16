/**
 * What each service reads from its environment, derived from the services' own settings definitions, so the
 * chart's contract tests follow the code: a setting added, renamed or made required there is checked here.
 */
import { describeSettings, type SettingsContext, type SettingsDefinition } from "@ward/shared/settings";
import { gatewaySettings } from "../../services/gateway/src/settings.js";
import { workerSettings } from "../../services/worker/src/settings.js";

export type ServiceName = "gateway" | "worker";

/** What a pod spec must (and may) give one service. */
export interface ServiceSettingsContract {
  /** Variables the service refuses to start without, whatever else is set. */
  required: readonly string[];
  /** Variables required once another one is set (WEBHOOK_SIGNING_SECRET once WEBHOOK_URL is), by name. */
  requiredWhen: Readonly<Record<string, string>>;
  /** Secret settings: they may reach a container only through a secretKeyRef (or a file, `NAME_FILE`). */
  secrets: readonly string[];
  /** Every variable the service reads, `NAME_FILE` of each secret included; a pod spec sets nothing else. */
  known: readonly string[];
}

const definitions: Record<ServiceName, SettingsDefinition> = {
  gateway: gatewaySettings,
  worker: workerSettings,
};

/** A pod in a cluster: KUBERNETES_SERVICE_HOST is set, and ENVIRONMENT is the chart's default. */
export const clusterContext: SettingsContext = { environment: "production", inKubernetes: true };

/**
 * The contract of one service in a context (which environment, in Kubernetes or not).
 *
 * @example
 * const { required } = settingsContract("gateway", { environment: "staging", inKubernetes: true });
 */
export function settingsContract(
  service: ServiceName,
  context: SettingsContext = clusterContext,
): ServiceSettingsContract {
  const settings = describeSettings(definitions[service], context);
  const secrets = settings.filter((setting) => setting.secret).map((setting) => setting.name);
  return {
    required: settings.filter((setting) => setting.required).map((setting) => setting.name),
    requiredWhen: Object.fromEntries(
      settings.flatMap((setting) => (setting.requiredWhen ? [[setting.name, setting.requiredWhen]] : [])),
    ),
    secrets,
    known: [...settings.map((setting) => setting.name), ...secrets.map((name) => `${name}_FILE`)],
  };
}

/** Each service's contract in a cluster with the chart's default environment. */
export const serviceSettings: Record<ServiceName, ServiceSettingsContract> = {
  gateway: settingsContract("gateway"),
  worker: settingsContract("worker"),
};

/** Settings that are secrets in either service: they may reach a container only through a secretKeyRef. */
export const secretSettings: readonly string[] = [
  ...new Set([...serviceSettings.gateway.secrets, ...serviceSettings.worker.secrets]),
];
