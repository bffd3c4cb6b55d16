import { readdirSync, readFileSync } from "node:fs";
import type { IContainer } from "kubernetes-models/v1/Container";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { parseManifests, renderChart, type KubeObject } from "./chart.js";
import { schemaProblems } from "./kube-schema.js";
import { serviceSettings } from "./service-settings.js";
import { repoRoot, runTool } from "./tools.js";

const devPath = "k8s/dev";
let rendered: KubeObject[] | undefined;
const dev = () => (rendered ??= parseManifests(runTool("kubectl", ["kustomize", devPath])));
const devSecret = () => {
  const secret = dev().find((object) => object.kind === "Secret")!;
  return secret.stringData as Record<string, string>;
};

const devContainer = (name: string): IContainer => {
  const deployment = dev().find((object) => object.kind === "Deployment" && object.metadata.name === name)!;
  return (deployment.spec as { template: { spec: { containers: IContainer[] } } }).template.spec
    .containers[0]!;
};

describe("k8s/dev (kubectl kustomize)", () => {
  it("renders objects that all validate against the Kubernetes schema, with no undeclared field", async () => {
    expect(
      dev()
        .map((object) => `${object.kind}/${object.metadata.name}`)
        .sort(),
    ).toEqual([
      "Deployment/postgres",
      "Deployment/redis",
      "Namespace/ward",
      "Secret/ward-dev",
      "Service/postgres",
      "Service/redis",
    ]);
    for (const object of dev()) expect(await schemaProblems(object), object.metadata.name).toEqual([]);
  });

  it("puts everything in the ward namespace it creates", () => {
    for (const object of dev().filter((object) => object.kind !== "Namespace")) {
      expect(object.metadata.namespace, object.metadata.name).toBe("ward");
    }
  });

  it("holds every secret setting the services require, as obvious placeholders", () => {
    const secret = devSecret();
    const required = new Set([...serviceSettings.gateway.required, ...serviceSettings.worker.required]);
    required.delete("WORKER_URL");
    expect(Object.keys(secret)).toEqual(expect.arrayContaining([...required]));
    for (const key of ["JWT_SECRET", "WORKER_TOKEN", "POSTGRES_PASSWORD", "REDIS_PASSWORD"])
      expect(secret[key]).toMatch(/^change-me-/);
    for (const key of ["JWT_SECRET", "WORKER_TOKEN"]) expect(secret[key]!.length).toBeGreaterThanOrEqual(32);
  });

  it("points DATABASE_URL and REDIS_URL at the dev Services, with the dev database's password", () => {
    const secret = devSecret();
    const servicePort = (name: string) => {
      const service = dev().find((object) => object.kind === "Service" && object.metadata.name === name)!;
      return (service.spec as { ports: { port: number }[] }).ports[0]!.port;
    };
    const database = new URL(secret.DATABASE_URL!);
    expect(`${database.hostname}:${database.port}`).toBe(`postgres:${servicePort("postgres")}`);
    expect(decodeURIComponent(database.password)).toBe(secret.POSTGRES_PASSWORD);
    const redis = new URL(secret.REDIS_URL!);
    expect(`${redis.hostname}:${redis.port}`).toBe(`redis:${servicePort("redis")}`);
    expect(decodeURIComponent(redis.password)).toBe(secret.REDIS_PASSWORD);
  });

  it("runs Redis with the dev Secret's password, and both databases on patched releases", () => {
    const redis = devContainer("redis");
    expect(redis.args?.slice(-2)).toEqual(["--requirepass", "$(REDIS_PASSWORD)"]);
    expect(
      redis.env?.find((variable) => variable.name === "REDIS_PASSWORD")?.valueFrom?.secretKeyRef,
    ).toEqual({
      name: "ward-dev",
      key: "REDIS_PASSWORD",
    });
    expect(devSecret().REDIS_PASSWORD).toMatch(/^change-me-/);
    // 7.4.6 fixes CVE-2025-49844; a tag names an exact patch release.
    const [, redisPatch] = /^redis:7\.4\.(\d+)-bookworm$/.exec(redis.image!) ?? [];
    expect(Number(redisPatch)).toBeGreaterThanOrEqual(6);
    expect(devContainer("postgres").image).toMatch(/^postgres:17\.\d+-bookworm$/);
  });

  it.each(["postgres", "redis"])("probes %s over TCP, not its Unix socket", (name) => {
    const command = devContainer(name).readinessProbe?.exec?.command?.join(" ") ?? "";
    expect(command).toMatch(/(-h|--host=) ?127\.0\.0\.1/);
  });

  it("uses every manifest file once, and shares no object with the chart", () => {
    const kustomization = parse(readFileSync(join(repoRoot, devPath, "kustomization.yaml"), "utf8")) as {
      resources: string[];
    };
    const files = readdirSync(join(repoRoot, devPath)).filter((name) => name !== "kustomization.yaml");
    expect([...kustomization.resources].sort()).toEqual(files.sort());
    const chart = renderChart({ releaseName: "ward", set: { "secret.existingSecret": "ward-dev" } });
    const key = (object: KubeObject) => `${object.kind}/${object.metadata.name}`;
    const keys = [...dev(), ...chart].map(key);
    expect(keys.filter((name, index) => keys.indexOf(name) !== index)).toEqual([]);
  });
});

describe("k8s/kind-config.yaml", () => {
  it("creates the cluster named ward, whose context skaffold's kind profile selects", () => {
    const cluster = parse(readFileSync(join(repoRoot, "k8s/kind-config.yaml"), "utf8")) as Record<
      string,
      unknown
    >;
    expect(cluster).toMatchObject({ kind: "Cluster", apiVersion: "kind.x-k8s.io/v1alpha4", name: "ward" });
    expect(readFileSync(join(repoRoot, "skaffold.yaml"), "utf8")).toContain("kubeContext: kind-ward");
  });

  it("asks for kind v0.32 or later, whose network plugin no longer blocks probes", () => {
    for (const file of ["k8s/kind-config.yaml", "k8s/README.md"])
      expect(readFileSync(join(repoRoot, file), "utf8"), file).toContain("kind v0.32 or later");
  });
});
