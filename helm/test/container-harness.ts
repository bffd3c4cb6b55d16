/**
 * The container harness: a pod the pod harness planned (pod-harness.ts: environment resolved as the kubelet
 * resolves it) run as a real container of the built image, with podman, the way a kubelet asks its container
 * runtime: the image and its command and args as declared, the pod's and container's securityContext as
 * podman flags, the emptyDir volumes as the only writable mounts, the memory and CPU limits. Off-cluster,
 * the network is the host's: every pod's IP is 127.0.0.1 and each Service's DNS names resolve to it.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { IContainer } from "kubernetes-models/v1/Container";
import type { IPodSecurityContext } from "kubernetes-models/v1/PodSecurityContext";
import type { ISecurityContext } from "kubernetes-models/v1/SecurityContext";
import { startProcess } from "@ward/shared/testing";
import type { KubeObject } from "./chart.js";
import { expand } from "./pod-harness-kubelet.js";
import { podIP, type PodPlan, type PodRun } from "./pod-harness.js";
import { repoRoot } from "./tools.js";

/** Every container this harness starts carries this label, so leftovers can be found and removed. */
export const harnessLabel = "io.ward.test-harness=containers";

/**
 * Why containers cannot run on this machine, or undefined when they can: root podman on Linux (what
 * scripts/bootstrap.sh installs).
 */
export async function containersUnavailable(): Promise<string | undefined> {
  if (process.platform !== "linux") return `podman's root containers need Linux, not ${process.platform}`;
  if (process.getuid?.() !== 0) return "not root: the image tests run root podman (sudo pnpm test)";
  try {
    await podman(["version", "--format", "{{.Client.Version}}"]);
  } catch (error) {
    return `podman does not run (scripts/bootstrap.sh installs it): ${(error as Error).message.split("\n")[0]}`;
  }
  return undefined;
}

/**
 * Runs podman (through scripts/images/podman.sh, which carries its settings) and resolves with its stdout;
 * rejects with its stderr.
 */
export async function podman(args: string[], timeoutMs = 60_000): Promise<string> {
  return (await runScript("scripts/images/podman.sh", args, timeoutMs)).stdout;
}

/** The chart's appVersion: the tag `scripts/images/build.sh` gives both images, as the chart names them. */
export const appVersion = /^appVersion: *"?([^"\s]+)"?$/m.exec(
  readFileSync(join(repoRoot, "helm/ward/Chart.yaml"), "utf8"),
)![1]!;

/** A service's image as the chart names it by default and `scripts/images/build.sh` tags it. */
export const imageOf = (service: "gateway" | "worker") => `ward-${service}:${appVersion}`;

/**
 * Builds both images as the chart names them by default (scripts/images/build.sh) and resolves with what
 * the script printed: one line per image with its build time and size.
 */
export async function buildImages(timeoutMs = 15 * 60_000): Promise<string> {
  return (await runScript("scripts/images/build.sh", [], timeoutMs)).stdout;
}

function runScript(
  script: string,
  args: string[],
  timeoutMs: number,
): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(
      join(repoRoot, script),
      args,
      { cwd: repoRoot, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`${script} ${args.join(" ")}: ${stderr.trim() || error.message}`));
        else resolve({ stdout, stderr });
      },
    );
  });
}

/** A pod's container, started by podman: a PodRun whose process is the attached `podman run`. */
export interface ContainerRun extends PodRun {
  /** The `podman run` arguments, values of the environment aside (they go in a file only podman reads). */
  podmanArgs: string[];
  /** Removes the container and the files it was started with. */
  remove(): Promise<void>;
}

/**
 * Starts a planned pod as a container. Its output streams back through the attached `podman run`, whose
 * exit code is the container's, so the pod harness's probes and log waits work unchanged.
 *
 * @example
 * const gateway = startContainer(planPod(deployment, objects, "ward"), objects, "ward");
 * await becomeReady(gateway);
 */
export function startContainer(
  plan: PodPlan,
  objects: readonly KubeObject[],
  namespace: string,
): ContainerRun {
  const folder = mkdtempSync(join(tmpdir(), "ward-container-"));
  const envFile = join(folder, "env");
  // Secrets stay off the command line: podman reads the values from a file only root can read.
  writeFileSync(envFile, envFileText(plan.env), { mode: 0o600 });
  const args = podmanRunArgs(plan, { objects, namespace, envFile });
  const run = startProcess(join(repoRoot, "scripts/images/podman.sh"), args, { cwd: repoRoot, env: {} });
  const prefix = `[pod/${plan.name}/${plan.container.name}] `;
  return {
    ...plan,
    podmanArgs: args,
    process: run,
    logs: () => [...run.logs.raw, ...run.stderr.raw].map((line) => `${prefix}${line}\n`).join(""),
    async remove() {
      await podman(["rm", "--force", "--time", "0", "--ignore", plan.name]).catch(() => {});
      await run.exited;
      rmSync(folder, { recursive: true, force: true });
    },
  };
}

/**
 * The container's output as `kubectl logs --prefix` prints it, read back from podman (`podman logs`), not
 * from the attached client.
 */
export async function containerLogs(run: Pick<PodPlan, "name" | "container">): Promise<string> {
  // podman logs writes the container's stdout to stdout and its stderr to stderr: keep both.
  const { stdout, stderr } = await runScript("scripts/images/podman.sh", ["logs", run.name], 60_000);
  const text = stdout + stderr;
  const prefix = `[pod/${run.name}/${run.container.name}] `;
  return text
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => `${prefix}${line}\n`)
    .join("");
}

/**
 * Stops a container as the kubelet does: SIGTERM, then SIGKILL once the pod's terminationGracePeriodSeconds
 * are over (`podman stop -t`). Resolves with the container's exit code.
 */
export async function stopContainer(run: ContainerRun): Promise<number | string> {
  const grace = run.pod.spec.terminationGracePeriodSeconds ?? 30;
  await podman(["stop", "--time", String(grace), run.name], (grace + 30) * 1000);
  return run.process.exited;
}

/** Runs a planned pod's container to its end (a Job's, the helm test Pod's): its exit code and output. */
export async function runContainerToCompletion(
  plan: PodPlan,
  objects: readonly KubeObject[],
  namespace: string,
  timeoutMs = 60_000,
): Promise<{ code: number | string; logs: string }> {
  const run = startContainer(plan, objects, namespace);
  const timer = setTimeout(() => void podman(["kill", plan.name]).catch(() => {}), timeoutMs);
  try {
    const code = await run.process.exited;
    return { code, logs: run.logs() };
  } finally {
    clearTimeout(timer);
    await run.remove();
  }
}

/**
 * The `podman run` arguments for a planned pod: what the kubelet would ask of the container runtime.
 * Anything of the pod spec that changes how a container runs and is not modelled here throws.
 */
export function podmanRunArgs(
  plan: PodPlan,
  { objects, namespace, envFile }: { objects: readonly KubeObject[]; namespace: string; envFile: string },
): string[] {
  const { container, pod } = plan;
  const args = [
    "run",
    `--name=${plan.name}`,
    `--label=${harnessLabel}`,
    "--pull=never",
    // The attached client only relays output and the exit code; signals go through podman stop.
    "--sig-proxy=false",
    `--env-file=${envFile}`,
    // The pod's network is the host's; its own UTS namespace keeps the pod's hostname.
    "--network=host",
    "--uts=private",
    `--hostname=${plan.name}`,
    ...serviceHosts(objects, namespace).map((host) => `--add-host=${host}`),
    ...securityFlags(pod.spec.securityContext ?? {}, container.securityContext ?? {}),
    ...volumeFlags(plan),
    ...resourceFlags(container),
  ];
  // command replaces the image's ENTRYPOINT (and with it its CMD), args its CMD; $(VAR) is the kubelet's.
  const expandAll = (values: string[]) => values.map((value) => expand(value, plan.env));
  if (container.command) args.push(`--entrypoint=${JSON.stringify(expandAll(container.command))}`);
  args.push(container.image!, ...expandAll(container.args ?? []));
  return args;
}

/** `KEY=value` lines, as `podman run --env-file` reads them (a value may not hold a line break). */
function envFileText(env: Readonly<Record<string, string>>): string {
  return Object.entries(env)
    .map(([key, value]) => {
      if (/[\r\n]/.test(value)) throw new Error(`${key}: podman's env file cannot carry a line break`);
      return `${key}=${value}\n`;
    })
    .join("");
}

/** Every DNS name cluster DNS gives each Service of the render, all on the pods' IP. */
function serviceHosts(objects: readonly KubeObject[], namespace: string): string[] {
  return objects
    .filter((object) => object.kind === "Service")
    .flatMap(({ metadata: { name } }) =>
      [
        name,
        `${name}.${namespace}`,
        `${name}.${namespace}.svc`,
        `${name}.${namespace}.svc.cluster.local`,
      ].map((host) => `${host}:${podIP}`),
    );
}

/** The pod's and the container's securityContext (the container's fields win) as podman flags. */
function securityFlags(pod: IPodSecurityContext, container: ISecurityContext): string[] {
  const user = container.runAsUser ?? pod.runAsUser;
  const group = container.runAsGroup ?? pod.runAsGroup;
  if (user === undefined)
    throw new Error("the container harness needs runAsUser: it does not read the image's USER");
  if ((container.runAsNonRoot ?? pod.runAsNonRoot) && user === 0)
    throw new Error("runAsNonRoot with runAsUser 0: the kubelet refuses to start this container");
  if (container.privileged) throw new Error("the container harness does not run privileged containers");
  const flags = [`--user=${user}${group === undefined ? "" : `:${group}`}`];
  for (const extra of [pod.fsGroup, ...(pod.supplementalGroups ?? [])]) {
    if (extra !== undefined) flags.push(`--group-add=${extra}`);
  }
  if (container.readOnlyRootFilesystem) {
    // Without --read-only-tmpfs=false, podman would add writable /tmp, /var/tmp and /run of its own.
    flags.push("--read-only", "--read-only-tmpfs=false");
  }
  for (const capability of container.capabilities?.drop ?? []) flags.push(`--cap-drop=${capability}`);
  for (const capability of container.capabilities?.add ?? []) flags.push(`--cap-add=${capability}`);
  // The kubelet sets no_new_privs unless privilege escalation is allowed.
  if (container.allowPrivilegeEscalation === false) flags.push("--security-opt=no-new-privileges");
  const seccomp = container.seccompProfile ?? pod.seccompProfile;
  if (seccomp?.type === "Unconfined") flags.push("--security-opt=seccomp=unconfined");
  else if (seccomp && seccomp.type !== "RuntimeDefault")
    throw new Error(`the container harness does not model seccompProfile ${seccomp.type}`);
  return flags;
}

/** The container's volume mounts: emptyDir volumes only, each a fresh tmpfs of its sizeLimit. */
function volumeFlags({ pod, container }: PodPlan): string[] {
  return (container.volumeMounts ?? []).map((mount) => {
    const volume = (pod.spec.volumes ?? []).find((candidate) => candidate.name === mount.name);
    if (!volume?.emptyDir)
      throw new Error(`the container harness mounts emptyDir volumes only, not ${mount.name}`);
    if (mount.subPath) throw new Error(`the container harness does not model subPath (${mount.name})`);
    const options = [`type=tmpfs`, `destination=${mount.mountPath}`, "tmpfs-mode=1777"];
    if (volume.emptyDir.sizeLimit !== undefined)
      options.push(`tmpfs-size=${quantityBytes(volume.emptyDir.sizeLimit)}`);
    if (mount.readOnly) options.push("ro=true");
    return `--mount=${options.join(",")}`;
  });
}

/** Limits as the runtime enforces them: memory (and no swap beyond it, as on a node) and CPU. */
function resourceFlags(container: IContainer): string[] {
  const limits = container.resources?.limits ?? {};
  const flags: string[] = [];
  if (limits.memory !== undefined) {
    const bytes = quantityBytes(limits.memory);
    flags.push(`--memory=${bytes}`, `--memory-swap=${bytes}`);
  }
  if (limits.cpu !== undefined) flags.push(`--cpus=${cpuCores(limits.cpu)}`);
  return flags;
}

const binarySuffixes: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 };
const decimalSuffixes: Record<string, number> = { "": 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12 };

/** A Kubernetes quantity of bytes (`64Mi`, `1G`, `512`) as a number of bytes. */
export function quantityBytes(quantity: string | number): number {
  const [, number = "", suffix = ""] = /^(\d+(?:\.\d+)?)([KMGT]i|[kMGT])?$/.exec(String(quantity)) ?? [];
  const factor = binarySuffixes[suffix] ?? decimalSuffixes[suffix];
  if (number === "" || factor === undefined) throw new Error(`not a quantity of bytes: ${quantity}`);
  return Math.round(Number(number) * factor);
}

/** A CPU quantity (`500m`, `2`) in cores. */
function cpuCores(quantity: string | number): number {
  const text = String(quantity);
  return text.endsWith("m") ? Number(text.slice(0, -1)) / 1000 : Number(text);
}
