import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { chartPath, findObject, renderChart, renderScenario, scenarios } from "./chart.js";
import { schemaProblems } from "./kube-schema.js";
import { repoRoot, runTool } from "./tools.js";

describe.each(scenarios)("scenario ci/%s", (scenario) => {
  it("passes helm lint --strict", () => {
    const output = runTool("helm", [
      "lint",
      "--strict",
      chartPath,
      "--values",
      `${chartPath}/ci/${scenario}`,
    ]);
    expect(output).toContain("0 chart(s) failed");
  });

  it("renders objects that all validate against the Kubernetes schema, with no undeclared field", async () => {
    const objects = renderScenario(scenario);
    expect(objects.length).toBeGreaterThan(0);
    const problems: string[] = [];
    for (const object of objects) {
      for (const problem of await schemaProblems(object)) {
        problems.push(`${object.kind}/${object.metadata.name}: ${problem}`);
      }
    }
    expect(problems).toEqual([]);
  });
});

describe("the Kubernetes schema check", () => {
  const deployment = () =>
    structuredClone(findObject(renderScenario(scenarios[0]!), "Deployment", "-gateway"));

  it("accepts the rendered gateway Deployment as it is", async () => {
    expect(await schemaProblems(deployment())).toEqual([]);
  });

  it("rejects a misspelled field in a probe (paht)", async () => {
    const planted = deployment();
    const container = (planted.spec as { template: { spec: { containers: Record<string, unknown>[] } } })
      .template.spec.containers[0]!;
    container.readinessProbe = { httpGet: { paht: "/readyz", port: "http" } };
    expect(await schemaProblems(planted)).toEqual([
      "/spec/template/spec/containers/0/readinessProbe/httpGet/paht is not a field of apps/v1 Deployment",
    ]);
  });

  it("rejects a misspelled field in a Deployment's spec (replicaz)", async () => {
    const planted = deployment();
    (planted.spec as Record<string, unknown>).replicaz = 3;
    expect(await schemaProblems(planted)).toEqual(["/spec/replicaz is not a field of apps/v1 Deployment"]);
  });

  it("rejects a wrong type and a missing required field", async () => {
    const planted = deployment();
    const spec = planted.spec as Record<string, unknown>;
    spec.replicas = "two";
    delete spec.selector;
    const [problem] = await schemaProblems(planted);
    expect(problem).toMatch(/replicas must be integer/);
    expect(problem).toMatch(/spec must have required property selector/);
  });
});

describe("values.schema.json", () => {
  it("is pointed at by the first line of values.yaml", () => {
    const [firstLine] = readFileSync(join(repoRoot, chartPath, "values.yaml"), "utf8").split("\n");
    expect(firstLine).toBe("# yaml-language-server: $schema=./values.schema.json");
  });

  it("closes every object it declares with additionalProperties: false (maps declare their value type)", () => {
    const open: string[] = [];
    const walk = (node: unknown, path: string): void => {
      if (node === null || typeof node !== "object") return;
      const schema = node as Record<string, unknown>;
      if (schema.type === "object" && schema.additionalProperties !== false) {
        const values = schema.additionalProperties as { type?: string } | undefined;
        if (schema.properties !== undefined || values?.type !== "string") open.push(path);
      }
      for (const [key, child] of Object.entries(schema)) walk(child, `${path}/${key}`);
    };
    walk(JSON.parse(readFileSync(join(repoRoot, chartPath, "values.schema.json"), "utf8")), "");
    expect(open).toEqual([]);
  });

  it("rejects a value the chart does not know", () => {
    expect(() => renderChart({ scenario: "default-values.yaml", set: { "gateway.replicaz": "3" } })).toThrow(
      /Additional property replicaz is not allowed/,
    );
  });

  it("rejects a JWT_SECRET shorter than 32 characters", () => {
    expect(() =>
      renderChart({ scenario: "default-values.yaml", set: { "secret.values.JWT_SECRET": "short" } }),
    ).toThrow(/JWT_SECRET/);
  });

  it("rejects an unknown log level", () => {
    expect(() =>
      renderChart({ scenario: "default-values.yaml", set: { "config.logLevel": "verbose" } }),
    ).toThrow(/logLevel/);
  });
});
