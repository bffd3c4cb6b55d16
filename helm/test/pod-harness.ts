/**
 * The pod harness: a rendered pod's container run as a local process, the way a cluster would run it (see
 * pod-harness-kubelet.ts for its environment and command line), probed the way the kubelet probes it, and its
 * output read back the way `kubectl logs --prefix` shows it. The pod's IP is 127.0.0.1.
 */
import { randomInt } from "node:crypto";
import { existsSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { IContainer } from "kubernetes-models/v1/Container";
import type { IProbe } from "kubernetes-models/v1/Probe";
import { startProcess, type RunningProcess } from "@ward/shared/testing";
import { renderedPods, type KubeObject, type RenderedPod } from "./chart.js";
import { imageConfig, type ImageConfig } from "./pod-harness-image.js";
import { containerCommand, containerEnvironment } from "./pod-harness-kubelet.js";
import { repoRoot } from "./tools.js";

/** Where every "pod" listens. */
export const podIP = "127.0.0.1";

/** A pod's one container, ready to start: everything decided, nothing running yet. */
export interface PodPlan {
  /** The pod's name, as its controller would make it (`<deployment>-<hash>-<suffix>`, `<job>-<suffix>`). */
  name: string;
  pod: RenderedPod;
  container: IContainer;
  image: ImageConfig;
  /** The environment, exactly; the test may replace what cannot work off-cluster, and must say why. */
  env: Record<string, string>;
  argv: string[];
  /** The image's WORKDIR, on this machine. */
  cwd: string;
}

/** A started pod. */
export interface PodRun extends PodPlan {
  process: RunningProcess;
  /** Its output (stdout and stderr) as `kubectl logs --prefix` prints it: `[pod/<name>/<container>] <line>`. */
  logs(): string;
}

/**
 * Plans the one container of a rendered Deployment, Job or Pod, in the render's namespace.
 *
 * @example
 * const plan = planPod(findObject(objects, "Deployment", "-gateway"), objects, "ward");
 */
export function planPod(owner: KubeObject, objects: readonly KubeObject[], namespace: string): PodPlan {
  const [pod] = renderedPods([owner]);
  if (!pod) throw new Error(`${owner.kind}/${owner.metadata.name} has no pod template`);
  const [container, ...others] = pod.spec.containers;
  if (!container || others.length > 0 || (pod.spec.initContainers ?? []).length > 0) {
    throw new Error(`the pod harness runs pods of one container; ${owner.metadata.name} has more`);
  }
  const name = podNameOf(owner);
  const image = imageConfig(container.image ?? "");
  const env = containerEnvironment(container, image, {
    objects,
    namespace,
    podName: name,
    podIP,
    serviceAccountName: pod.spec.serviceAccountName,
    enableServiceLinks: pod.spec.enableServiceLinks,
  });
  const cwd = join(repoRoot, image.folder);
  requireBuilt(cwd);
  return { name, pod, container, image, env, argv: containerCommand(container, image, env), cwd };
}

/**
 * Starts a planned container: its command line, in its WORKDIR, with exactly its environment plus this
 * machine's PATH (the image's own PATH names folders that only exist in the image).
 *
 * @example
 * const gateway = startPod(plan); await becomeReady(gateway);
 */
export function startPod(plan: PodPlan): PodRun {
  const [command, ...args] = plan.argv;
  const run = startProcess(command!, args, { cwd: plan.cwd, env: { ...plan.env, PATH: process.env.PATH } });
  const prefix = `[pod/${plan.name}/${plan.container.name}] `;
  return {
    ...plan,
    process: run,
    logs: () => [...run.logs.raw, ...run.stderr.raw].map((line) => `${prefix}${line}\n`).join(""),
  };
}

/**
 * A URL that names a Service (`http://<service>[.<namespace>...]:<port>/...`) rewritten to the pod behind it,
 * as cluster DNS and kube-proxy would route it: the Service's port, its targetPort (by name or number) in the
 * container of the Deployment its selector picks, on the pod's IP. Throws when the URL reaches no pod.
 *
 * @example
 * throughService("http://ward-test-worker:8081", objects); // "http://127.0.0.1:8081"
 */
export function throughService(address: string, objects: readonly KubeObject[]): string {
  const url = new URL(address);
  const serviceName = url.hostname.split(".")[0];
  const service = objects.find((object) => object.kind === "Service" && object.metadata.name === serviceName);
  if (!service) throw new Error(`${address}: no Service ${serviceName} in the render`);
  const spec = service.spec as {
    selector: Record<string, string>;
    ports: { port: number; targetPort?: number | string }[];
  };
  const port = Number(url.port || (url.protocol === "https:" ? 443 : 80));
  const servicePort = spec.ports.find((candidate) => candidate.port === port);
  if (!servicePort) throw new Error(`${address}: Service ${serviceName} has no port ${port}`);
  const pods = renderedPods(objects.filter((object) => object.kind === "Deployment")).filter((pod) =>
    Object.entries(spec.selector).every(([key, value]) => pod.labels[key] === value),
  );
  if (pods.length !== 1)
    throw new Error(`${address}: Service ${serviceName} selects ${pods.length} Deployments`);
  const container = pods[0]!.spec.containers[0]!;
  const target = servicePort.targetPort ?? port;
  url.hostname = podIP;
  url.port = String(typeof target === "number" ? target : portNamed(container, target));
  // Only the address changes: "http://worker:8081" stays without a trailing slash.
  const routed = url.toString();
  return routed.endsWith("/") && !address.endsWith("/") ? routed.slice(0, -1) : routed;
}

/** What the kubelet saw, one probe attempt at a time. */
export interface ProbeAttempt {
  probe: "startup" | "liveness" | "readiness";
  url: string;
  /** Milliseconds since the container started. */
  at: number;
  status?: number;
  error?: string;
  success: boolean;
}

/**
 * Probes a started pod as the kubelet would: the startup probe every periodSeconds until it succeeds (more
 * than failureThreshold failures and the kubelet would kill the container), then liveness (which must not
 * fail failureThreshold times in a row) and readiness until Ready. Resolves with every attempt.
 *
 * @example
 * const attempts = await becomeReady(gateway);
 */
export async function becomeReady(pod: PodRun, readyWithinMs = 30_000): Promise<ProbeAttempt[]> {
  const started = Date.now();
  const attempts: ProbeAttempt[] = [];
  const { startupProbe, livenessProbe, readinessProbe } = pod.container;
  const attempt = async (kind: ProbeAttempt["probe"], probe: IProbe) => {
    if (pod.process.child.exitCode !== null || pod.process.child.signalCode !== null) {
      throw new Error(`${pod.name} exited (${await pod.process.exited}) while probed:\n${pod.logs()}`);
    }
    const result = { probe: kind, at: Date.now() - started, ...(await httpGet(probe, pod.container)) };
    attempts.push(result);
    return result.success;
  };
  const failWith = (message: string) =>
    new Error(`${pod.name}: ${message}\n${JSON.stringify(attempts, null, 1)}\n${pod.logs()}`);

  if (startupProbe) {
    await sleep((startupProbe.initialDelaySeconds ?? 0) * 1000);
    for (let failures = 0; !(await attempt("startup", startupProbe));) {
      if (++failures >= (startupProbe.failureThreshold ?? 3))
        throw failWith(`startup probe failed ${failures} times: the kubelet would restart the container`);
      await sleep((startupProbe.periodSeconds ?? 10) * 1000);
    }
  }
  const live = async () => {
    if (!livenessProbe) return;
    for (let failures = 0; !(await attempt("liveness", livenessProbe));) {
      if (++failures >= (livenessProbe.failureThreshold ?? 3))
        throw failWith(`liveness probe failed ${failures} times: the kubelet would restart the container`);
      await sleep((livenessProbe.periodSeconds ?? 10) * 1000);
    }
  };
  const ready = async () => {
    if (!readinessProbe) return;
    while (!(await attempt("readiness", readinessProbe))) {
      if (Date.now() - started > readyWithinMs) throw failWith(`not Ready within ${readyWithinMs} ms`);
      await sleep((readinessProbe.periodSeconds ?? 10) * 1000);
    }
  };
  await Promise.all([live(), ready()]);
  return attempts;
}

/** One HTTP probe, as the kubelet sends it: GET, no keep-alive, its timeout, 200-399 is success. */
async function httpGet(
  probe: IProbe,
  container: IContainer,
): Promise<Pick<ProbeAttempt, "url" | "status" | "error" | "success">> {
  const get = probe.httpGet;
  if (!get) throw new Error(`the pod harness probes only httpGet, not ${Object.keys(probe).join(", ")}`);
  const port = typeof get.port === "number" ? get.port : portNamed(container, get.port);
  const url = `${(get.scheme ?? "HTTP").toLowerCase()}://${get.host ?? podIP}:${port}${get.path ?? "/"}`;
  const headers = {
    "user-agent": "kube-probe/1.32",
    accept: "*/*",
    ...Object.fromEntries((get.httpHeaders ?? []).map((header) => [header.name, header.value])),
  };
  return new Promise((resolve) => {
    const req = request(
      url,
      { headers, agent: false, timeout: (probe.timeoutSeconds ?? 1) * 1000 },
      (res) => {
        res.resume();
        const status = res.statusCode ?? 0;
        resolve({ url, status, success: status >= 200 && status < 400 });
      },
    );
    req.on("timeout", () => req.destroy(new Error(`timed out after ${probe.timeoutSeconds ?? 1} s`)));
    req.on("error", (error) => resolve({ url, error: error.message, success: false }));
    req.end();
  });
}

/** A named container port's number, as the kubelet resolves `port: http`. */
export function portNamed(container: IContainer, name: string): number {
  const port = container.ports?.find((candidate) => candidate.name === name);
  if (!port) throw new Error(`${container.name} has no container port named ${name}`);
  return port.containerPort;
}

/**
 * Runs a planned container to completion (a Job's or the helm test Pod's), resolving with its exit code and
 * its logs. Throws if it outlives `timeoutMs`.
 *
 * @example
 * const { code, logs } = await runToCompletion(planPod(job, objects, "ward"));
 */
export async function runToCompletion(
  plan: PodPlan,
  timeoutMs = 30_000,
): Promise<{ code: number | string; logs: string }> {
  const run = startPod(plan);
  const timer = setTimeout(() => run.process.child.kill("SIGKILL"), timeoutMs);
  const code = await run.process.exited;
  clearTimeout(timer);
  return { code, logs: run.logs() };
}

// The alphabet Kubernetes uses for generated name suffixes (no vowels, no look-alikes).
const safeAlphabet = "bcdfghjklmnpqrstvwxz2456789";
const suffix = (length: number) =>
  Array.from({ length }, () => safeAlphabet[randomInt(safeAlphabet.length)]).join("");

/** Deployment pods are `<name>-<pod-template-hash>-<5>`, Job pods `<name>-<5>`, a bare Pod its own name. */
function podNameOf(owner: KubeObject): string {
  if (owner.kind === "Deployment") return `${owner.metadata.name}-${suffix(10)}-${suffix(5)}`;
  if (owner.kind === "Job") return `${owner.metadata.name}-${suffix(5)}`;
  return owner.metadata.name;
}

/** The image's files come from `pnpm build`: fail at once, and say so, when they are missing. */
function requireBuilt(folder: string): void {
  for (const built of [join(folder, "dist"), join(repoRoot, "shared", "dist")]) {
    if (!existsSync(built)) throw new Error(`${built} is missing: run \`pnpm build\` first (pnpm test does)`);
  }
}
