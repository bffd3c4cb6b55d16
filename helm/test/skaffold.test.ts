import { Ajv, type ValidateFunction } from "ajv";
import addFormats from "ajv-formats";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { chartPath, parseManifests, renderChart } from "./chart.js";
import { schemaProblems } from "./kube-schema.js";
import { repoRoot, runTool } from "./tools.js";

// skaffold's published schema, vendored (see schemas/README.md): validation needs no network.
const schemaPath = join(repoRoot, "helm/test/schemas/skaffold-v4beta14.json");

interface HelmRelease {
  name: string;
  chartPath: string;
  namespace: string;
  setValueTemplates: Record<string, string>;
  setValues: Record<string, string | number | boolean>;
}
interface SkaffoldConfig {
  apiVersion: string;
  metadata: { name: string };
  requires?: { configs: string[]; activeProfiles?: { name: string; activatedBy: string[] }[] }[];
  build?: { artifacts: { image: string; context: string; docker: { dockerfile: string } }[] };
  manifests?: { kustomize?: { paths: string[] } };
  deploy?: { kubectl?: object; helm?: { releases: HelmRelease[] } };
  portForward?: {
    resourceType: string;
    resourceName: string;
    namespace: string;
    port: number;
    localPort: number;
  }[];
  profiles?: {
    name: string;
    activation?: { kubeContext?: string }[];
    build?: { local?: { push?: boolean } };
  }[];
}

let compiled: ValidateFunction | undefined;
function loadSchema(): ValidateFunction {
  if (!compiled) {
    // strict: false lets the schema's own annotations (preferredOrder, x-intellij-*) through; unknown fields
    // are still rejected wherever the schema says additionalProperties: false.
    const ajv = new Ajv({ allErrors: true, strict: false });
    addFormats.default(ajv);
    compiled = ajv.compile(JSON.parse(readFileSync(schemaPath, "utf8")) as object);
  }
  return compiled;
}

const documents = () =>
  parseAllDocuments(readFileSync(join(repoRoot, "skaffold.yaml"), "utf8")).map(
    (document) => document.toJS() as SkaffoldConfig,
  );
const config = (name: string) => documents().find((document) => document.metadata.name === name)!;
const release = () => config("ward").deploy!.helm!.releases[0]!;

describe("skaffold.yaml", () => {
  it("carries the skaffold v4beta14 schema in helm/test/schemas", () => {
    expect(existsSync(schemaPath), schemaPath).toBe(true);
  });

  it("validates, document by document, against the skaffold v4beta14 schema", () => {
    const validate = loadSchema();
    expect(documents().map((document) => document.metadata.name)).toEqual(["ward-dev-deps", "ward"]);
    for (const document of documents()) {
      expect(document.apiVersion).toBe("skaffold/v4beta14");
      validate(document);
      expect(validate.errors ?? [], document.metadata.name).toEqual([]);
    }
  });

  it("is checked strictly: a misspelled field fails the schema", () => {
    const validate = loadSchema();
    const planted = config("ward");
    (planted.deploy!.helm!.releases[0] as unknown as Record<string, unknown>).chartPaht = "helm/ward";
    expect(validate(planted)).toBe(false);
    expect(validate.errors?.map((error) => error.params as { additionalProperty?: string })).toContainEqual({
      additionalProperty: "chartPaht",
    });
  });

  it("builds both images from the repository root with their own Dockerfiles", () => {
    const artifacts = config("ward").build!.artifacts;
    expect(artifacts.map((artifact) => artifact.image)).toEqual(["ward-gateway", "ward-worker"]);
    for (const artifact of artifacts) {
      expect(artifact.context).toBe(".");
      expect(existsSync(join(repoRoot, artifact.docker.dockerfile)), artifact.docker.dockerfile).toBe(true);
    }
  });

  it("hands each built image to the chart through setValueTemplates", () => {
    expect(release().chartPath).toBe(chartPath);
    for (const service of ["gateway", "worker"]) {
      const artifact = `ward_${service}`;
      expect(release().setValueTemplates).toMatchObject({
        [`${service}.image.repository`]: `{{.IMAGE_REPO_${artifact}}}`,
        [`${service}.image.tag`]: `{{.IMAGE_TAG_${artifact}}}`,
      });
    }
  });

  it("sets only values the chart accepts, which render valid objects", async () => {
    const set = Object.fromEntries(
      Object.entries({ ...release().setValues, ...release().setValueTemplates }).map(([key, value]) => [
        key,
        String(value)
          .replace(/\{\{\.IMAGE_TAG_\w+\}\}/, "dev")
          .replace(/\{\{\.IMAGE_REPO_(\w+)\}\}/, "$1"),
      ]),
    );
    const objects = renderChart({ releaseName: release().name, set });
    for (const object of objects) expect(await schemaProblems(object)).toEqual([]);
    const pulls = objects.flatMap((object) => JSON.stringify(object).match(/"imagePullPolicy":"\w+"/g) ?? []);
    expect(pulls.length).toBeGreaterThan(0);
    expect(pulls.filter((pull) => pull.includes("Always"))).toEqual([]);
  });

  it("forwards 8080 and 8081 to the Services the chart names for this release", () => {
    const objects = renderChart({
      releaseName: release().name,
      set: { "secret.existingSecret": "ward-dev" },
    });
    const services = objects.filter((object) => object.kind === "Service");
    const forwards = config("ward").portForward!;
    expect(forwards.map((forward) => forward.localPort)).toEqual([8080, 8081]);
    for (const forward of forwards) {
      const service = services.find((candidate) => candidate.metadata.name === forward.resourceName);
      expect(service, forward.resourceName).toBeDefined();
      expect((service!.spec as { ports: { port: number }[] }).ports[0]!.port).toBe(forward.port);
      expect(forward.namespace).toBe(release().namespace);
    }
  });

  it("deploys k8s/dev first, with the Secret the release reads, in the release's namespace", () => {
    const deps = config("ward-dev-deps");
    expect(config("ward").requires?.[0]?.configs).toEqual(["ward-dev-deps"]);
    expect(deps.deploy?.kubectl).toBeDefined();
    const objects = parseManifests(runTool("kubectl", ["kustomize", ...deps.manifests!.kustomize!.paths]));
    const secret = objects.find((object) => object.kind === "Secret");
    expect(secret?.metadata).toMatchObject({
      name: release().setValues["secret.existingSecret"],
      namespace: release().namespace,
    });
  });

  it.each(["kind", "minikube"])("has a %s profile for its context that never pushes images", (name) => {
    for (const document of documents()) {
      const profile = document.profiles?.find((candidate) => candidate.name === name);
      expect(profile, `${document.metadata.name} profile ${name}`).toBeDefined();
      expect(profile!.activation?.[0]?.kubeContext).toBe(name === "kind" ? "kind-ward" : "minikube");
    }
    expect(config("ward").profiles!.find((profile) => profile.name === name)!.build?.local?.push).toBe(false);
    expect(config("ward").requires![0]!.activeProfiles).toContainEqual({ name, activatedBy: [name] });
  });
});
