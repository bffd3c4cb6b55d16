import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { IContainer } from "kubernetes-models/v1/Container";
import type { IPodSpec } from "kubernetes-models/v1/PodSpec";
import { parse, parseAllDocuments } from "yaml";
import { repoRoot, runTool } from "./tools.js";

/** The chart under test, relative to the repository root. */
export const chartPath = "helm/ward";

/** The scenario values files under helm/ward/ci/, by file name. */
export const scenarios = readdirSync(join(repoRoot, chartPath, "ci"))
  .filter((name) => name.endsWith(".yaml"))
  .sort();

/** One rendered Kubernetes object, loosely typed: tests read what they need and check the rest by schema. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  [field: string]: unknown;
}

/** What `helm template` gets besides the chart's own values. */
export interface RenderOptions {
  /** A scenario file name under helm/ward/ci/. */
  scenario?: string;
  /** --set overrides, by value path (helm parses numbers and booleans). */
  set?: Record<string, string>;
  releaseName?: string;
}

/** Parses a multi-document YAML stream into its non-empty objects. */
export function parseManifests(text: string): KubeObject[] {
  return parseAllDocuments(text)
    .map((document) => document.toJS() as KubeObject | null)
    .filter((object): object is KubeObject => object !== null);
}

/**
 * Renders the chart with `helm template` (hooks and tests included) and returns every object.
 *
 * @example
 * const objects = renderChart({ scenario: "default-values.yaml", set: { "config.logLevel": "debug" } });
 */
export function renderChart(options: RenderOptions = {}): KubeObject[] {
  const args = ["template", options.releaseName ?? "ward-test", chartPath, "--namespace", "ward"];
  if (options.scenario) args.push("--values", join(chartPath, "ci", options.scenario));
  for (const [path, value] of Object.entries(options.set ?? {})) args.push("--set", `${path}=${value}`);
  return parseManifests(runTool("helm", args));
}

const scenarioRenders = new Map<string, KubeObject[]>();

/** renderChart for a scenario with nothing else set, rendered once per test file and shared. */
export function renderScenario(scenario: string): KubeObject[] {
  let objects = scenarioRenders.get(scenario);
  if (!objects) {
    objects = renderChart({ scenario });
    scenarioRenders.set(scenario, objects);
  }
  return objects;
}

/** The values a scenario file sets (not merged with the chart's defaults). */
export function scenarioValues(scenario: string): Record<string, unknown> {
  return parse(readFileSync(join(repoRoot, chartPath, "ci", scenario), "utf8")) as Record<string, unknown>;
}

/** The one object of a kind whose name ends with the given suffix (e.g. "-gateway"). */
export function findObject(objects: KubeObject[], kind: string, nameSuffix: string): KubeObject {
  const found = objects.filter((object) => object.kind === kind && object.metadata.name.endsWith(nameSuffix));
  if (found.length !== 1) throw new Error(`expected one ${kind} named *${nameSuffix}, found ${found.length}`);
  return found[0]!;
}

/** A pod template the chart renders: a Deployment's, a Job's, or the test Pod itself. */
export interface RenderedPod {
  owner: KubeObject;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  spec: IPodSpec;
}

interface PodTemplate {
  metadata: Pick<KubeObject["metadata"], "labels" | "annotations">;
  spec: IPodSpec;
}

/** Every pod spec in a render, with the object that carries it. */
export function renderedPods(objects: KubeObject[]): RenderedPod[] {
  const pods: RenderedPod[] = [];
  for (const object of objects) {
    if (object.kind === "Pod") {
      const { labels = {}, annotations = {} } = object.metadata;
      pods.push({ owner: object, labels, annotations, spec: object.spec as IPodSpec });
    } else if (object.kind === "Deployment" || object.kind === "Job") {
      const { metadata, spec } = (object.spec as { template: PodTemplate }).template;
      pods.push({
        owner: object,
        labels: metadata.labels ?? {},
        annotations: metadata.annotations ?? {},
        spec,
      });
    }
  }
  return pods;
}

/** The service's one container in its rendered Deployment. */
export function serviceContainer(objects: KubeObject[], service: "gateway" | "worker"): IContainer {
  const deployment = findObject(objects, "Deployment", `-${service}`);
  const [pod] = renderedPods([deployment]);
  const container = pod?.spec.containers[0];
  if (!container || pod.spec.containers.length !== 1) throw new Error(`${service} should run one container`);
  return container;
}

/**
 * The objects of one kind a helm hook (`pre-install`, `test`, ...) creates, in the order helm runs them:
 * by hook weight, then by name.
 *
 * @example
 * const migrations = hookObjects(objects, "pre-install", "Job");
 */
export function hookObjects(objects: readonly KubeObject[], hook: string, kind: string): KubeObject[] {
  const weight = (object: KubeObject) => Number(object.metadata.annotations?.["helm.sh/hook-weight"] ?? 0);
  return objects
    .filter(
      (object) =>
        object.kind === kind &&
        (object.metadata.annotations?.["helm.sh/hook"] ?? "").split(",").includes(hook),
    )
    .sort((a, b) => weight(a) - weight(b) || a.metadata.name.localeCompare(b.metadata.name));
}
