/** The values of ENVIRONMENT. */
export const ENVIRONMENTS = ["development", "test", "staging", "production"] as const;

export type Environment = (typeof ENVIRONMENTS)[number];

/** What a settings definition may depend on: defaults that differ by environment or platform. */
export interface SettingsContext {
  /** ENVIRONMENT: development when unset; production when invalid, so nothing is defaulted by mistake. */
  readonly environment: Environment;
  /** KUBERNETES_SERVICE_HOST is set, as it is in every Kubernetes pod. */
  readonly inKubernetes: boolean;
}

/** Environments that are deployed: a `.env` file is never read there and placeholders are refused. */
export const DEPLOYED: ReadonlySet<string> = new Set<Environment>(["staging", "production"]);

/** The context for the given ENVIRONMENT and KUBERNETES_SERVICE_HOST values. */
export function contextOf(
  environment: string | undefined,
  kubernetesHost: string | undefined,
): SettingsContext {
  const name = environment?.trim() || "development";
  return {
    environment: (ENVIRONMENTS as readonly string[]).includes(name) ? (name as Environment) : "production",
    inKubernetes: kubernetesHost !== undefined,
  };
}
