/**
 * What the kubelet and the container runtime hand a container: its environment and its command line, built
 * from the pod spec and the objects of the render, with Kubernetes' own rules. Anything the chart might use
 * that is not modelled here throws, so a chart change cannot slip past the pod harness unnoticed.
 */
import type { IContainer } from "kubernetes-models/v1/Container";
import type { IEnvVar } from "kubernetes-models/v1/EnvVar";
import type { KubeObject } from "./chart.js";
import type { ImageConfig } from "./pod-harness-image.js";

/** The pod a container runs in, and the objects of its namespace. */
export interface PodPlacement {
  /** Every object of the render: the Secrets, ConfigMaps and Services the pod may refer to. */
  objects: readonly KubeObject[];
  namespace: string;
  podName: string;
  podIP: string;
  serviceAccountName?: string;
  /** The pod spec's `enableServiceLinks` (Kubernetes' default: true). */
  enableServiceLinks?: boolean;
}

/** The pod cannot start: the kubelet's CreateContainerConfigError, with its message. */
export class ContainerConfigError extends Error {
  override readonly name = "ContainerConfigError";
}

/** The address of the API server's `kubernetes` Service, as a cluster hands it to every pod. */
const apiServer = { ip: "10.96.0.1", port: 443 };

/**
 * The environment the container's process sees: the image's ENV, then the kubelet's service variables
 * (`KUBERNETES_SERVICE_HOST`, and one set per Service of the namespace unless `enableServiceLinks` is false),
 * then `envFrom`, then `env` (later wins), with `$(VAR)` references expanded; and `HOSTNAME`, the pod's
 * name, from the runtime.
 *
 * @example
 * const env = containerEnvironment(container, imageConfig(container.image!), { objects, namespace: "ward", podName, podIP: "127.0.0.1" });
 */
export function containerEnvironment(
  container: IContainer,
  image: Pick<ImageConfig, "env">,
  pod: PodPlacement,
): Record<string, string> {
  const env: Record<string, string> = { ...serviceVariables(pod) };
  for (const source of container.envFrom ?? []) {
    const ref = source.configMapRef ?? source.secretRef;
    const kind = source.configMapRef ? "ConfigMap" : "Secret";
    if (!ref?.name)
      throw new ContainerConfigError(`envFrom of ${container.name} names no ConfigMap or Secret`);
    const data = dataOf(pod.objects, kind, ref.name);
    if (!data) {
      if (ref.optional) continue;
      throw new ContainerConfigError(`${kind.toLowerCase()} "${ref.name}" not found`);
    }
    for (const [key, value] of Object.entries(data)) {
      // The kubelet skips keys that are not valid variable names (and records an event).
      const name = `${source.prefix ?? ""}${key}`;
      if (/^[-._a-zA-Z][-._a-zA-Z0-9]*$/.test(name)) env[name] = value;
    }
  }
  for (const variable of container.env ?? []) {
    const value = valueOf(variable, env, pod);
    if (value !== undefined) env[variable.name] = value;
  }
  // The runtime sets HOSTNAME first; the image's ENV and then the kubelet's list override it.
  return { HOSTNAME: pod.podName, ...image.env, ...env };
}

function valueOf(variable: IEnvVar, defined: Record<string, string>, pod: PodPlacement): string | undefined {
  const from = variable.valueFrom;
  if (!from) return expand(variable.value ?? "", defined);
  if (from.secretKeyRef ?? from.configMapKeyRef) {
    const ref = (from.secretKeyRef ?? from.configMapKeyRef)!;
    const kind = from.secretKeyRef ? "Secret" : "ConfigMap";
    const data = dataOf(pod.objects, kind, ref.name ?? "");
    const value = data?.[ref.key];
    if (value !== undefined) return value;
    if (ref.optional) return undefined;
    throw new ContainerConfigError(
      data
        ? `couldn't find key ${ref.key} in ${kind} ${pod.namespace}/${ref.name}`
        : `${kind.toLowerCase()} "${ref.name}" not found`,
    );
  }
  if (from.fieldRef) {
    const fields: Record<string, string | undefined> = {
      "metadata.name": pod.podName,
      "metadata.namespace": pod.namespace,
      "status.podIP": pod.podIP,
      "spec.serviceAccountName": pod.serviceAccountName,
    };
    const value = fields[from.fieldRef.fieldPath];
    if (value === undefined)
      throw new Error(`the pod harness does not model fieldRef ${from.fieldRef.fieldPath}`);
    return value;
  }
  throw new Error(
    `the pod harness does not model valueFrom ${Object.keys(from).join(", ")} (${variable.name})`,
  );
}

/** A Secret's or ConfigMap's values by key (Secrets: `data` decoded, `stringData` over it), if it exists. */
export function dataOf(
  objects: readonly KubeObject[],
  kind: "Secret" | "ConfigMap",
  name: string,
): Record<string, string> | undefined {
  const object = objects.find((candidate) => candidate.kind === kind && candidate.metadata.name === name);
  if (!object) return undefined;
  const data = (object.data ?? {}) as Record<string, string>;
  if (kind === "ConfigMap") {
    const binary = (object.binaryData ?? {}) as Record<string, string>;
    return { ...data, ...Object.fromEntries(Object.entries(binary).map(([k, v]) => [k, decode(v)])) };
  }
  const decoded = Object.fromEntries(Object.entries(data).map(([key, value]) => [key, decode(value)]));
  return { ...decoded, ...((object.stringData ?? {}) as Record<string, string>) };
}

const decode = (base64: string) => Buffer.from(base64, "base64").toString("utf8");

/**
 * Kubernetes' `$(VAR)` expansion: a reference to a defined variable is replaced, `$$` stands for `$`, and
 * anything else is left as written.
 */
export function expand(text: string, defined: Readonly<Record<string, string>>): string {
  return text.replace(/\$(\$|\(([^)]*)\))/g, (whole, escapedOrRef: string, name?: string) => {
    if (escapedOrRef === "$") return "$";
    return name !== undefined && name in defined ? defined[name]! : whole;
  });
}

/**
 * The command line a container runs: `command` replaces the image's ENTRYPOINT and, when given alone, drops its
 * CMD too; `args` replaces CMD. `$(VAR)` references to the container's environment are expanded.
 *
 * @example
 * containerCommand({ name: "gateway" }, image, env); // the image's ENTRYPOINT + CMD
 */
export function containerCommand(
  container: Pick<IContainer, "name" | "command" | "args">,
  image: Pick<ImageConfig, "entrypoint" | "cmd">,
  env: Readonly<Record<string, string>>,
): string[] {
  const command = container.command ?? image.entrypoint;
  const args = container.args ?? (container.command ? [] : image.cmd);
  const argv = [...command, ...args].map((arg) => expand(arg, env));
  if (argv.length === 0) throw new ContainerConfigError(`no command specified for ${container.name}`);
  return argv;
}

interface ServicePort {
  name?: string;
  port: number;
  protocol?: string;
}

/**
 * The kubelet's Docker-links-style variables: the API server's `kubernetes` Service always, and every Service
 * of the pod's namespace unless `enableServiceLinks` is false. The render has no cluster IPs, so each Service
 * gets a stand-in from 10.96.0.0/16, in render order.
 */
function serviceVariables(pod: PodPlacement): Record<string, string> {
  const services: { name: string; ip: string; ports: ServicePort[] }[] = [];
  if (pod.enableServiceLinks ?? true) {
    pod.objects
      .filter((object) => object.kind === "Service")
      .forEach((service, index) => {
        const spec = service.spec as { clusterIP?: string; ports?: ServicePort[] };
        if (spec.clusterIP === "None") return; // headless Services get no variables
        services.push({ name: service.metadata.name, ip: `10.96.1.${10 + index}`, ports: spec.ports ?? [] });
      });
  }
  services.push({ name: "kubernetes", ip: apiServer.ip, ports: [{ name: "https", port: apiServer.port }] });
  const env: Record<string, string> = {};
  for (const { name, ip, ports } of services) {
    const prefix = name.toUpperCase().replaceAll("-", "_");
    const [first] = ports;
    if (!first) continue;
    env[`${prefix}_SERVICE_HOST`] = ip;
    env[`${prefix}_SERVICE_PORT`] = String(first.port);
    for (const port of ports) {
      const protocol = (port.protocol ?? "TCP").toLowerCase();
      if (port.name)
        env[`${prefix}_SERVICE_PORT_${port.name.toUpperCase().replaceAll("-", "_")}`] = String(port.port);
      const base = `${prefix}_PORT_${port.port}_${protocol.toUpperCase()}`;
      env[base] = `${protocol}://${ip}:${port.port}`;
      env[`${base}_PROTO`] = protocol;
      env[`${base}_PORT`] = String(port.port);
      env[`${base}_ADDR`] = ip;
    }
    env[`${prefix}_PORT`] = `${(first.protocol ?? "TCP").toLowerCase()}://${ip}:${first.port}`;
  }
  return env;
}
