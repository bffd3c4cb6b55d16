import { execFileSync } from "node:child_process";
import type { IContainer } from "kubernetes-models/v1/Container";
import type { IEnvVar } from "kubernetes-models/v1/EnvVar";
import type { Environment } from "@ward/shared/settings";
import { describe, expect, it } from "vitest";
import {
  findObject,
  renderChart,
  renderedPods,
  renderScenario,
  scenarios,
  scenarioValues,
  serviceContainer,
  type KubeObject,
} from "./chart.js";
import { secretSettings, serviceSettings, settingsContract } from "./service-settings.js";

const services = ["gateway", "worker"] as const;
/** Read by node, not by the service: the chart derives them from the pod's resources. */
const nodeVariables = ["NODE_OPTIONS"];
const defaultPorts = { gateway: 8080, worker: 8081 };
const isSecretSetting = (name: string) => secretSettings.includes(name);
const envNames = (container: IContainer) => (container.env ?? []).map((variable) => variable.name);
const secretRefs = (objects: KubeObject[]) =>
  renderedPods(objects).flatMap(({ spec }) =>
    [...spec.containers, ...(spec.initContainers ?? [])].flatMap((container) =>
      (container.env ?? []).flatMap((variable) => variable.valueFrom?.secretKeyRef ?? []),
    ),
  );
const configValue = (objects: KubeObject[], service: string, key: string) =>
  (findObject(objects, "ConfigMap", `-${service}`).data as Record<string, string>)[key];

describe.each(scenarios)("scenario ci/%s", (scenario) => {
  const objects = () => renderScenario(scenario);

  it.each(services)("supplies every setting the %s requires in the environment it renders", (service) => {
    const names = envNames(serviceContainer(objects(), service));
    const environment = configValue(objects(), service, "ENVIRONMENT") as Environment;
    const contract = settingsContract(service, { environment, inKubernetes: true });
    const required = [...contract.required];
    for (const [name, trigger] of Object.entries(contract.requiredWhen)) {
      if (configValue(objects(), service, trigger)) required.push(name);
    }
    expect(names).toEqual(expect.arrayContaining(required));
  });

  it.each(services)("sets only variables the %s (or node itself) reads, each once", (service) => {
    const names = envNames(serviceContainer(objects(), service));
    const known = [...serviceSettings[service].known, ...nodeVariables];
    expect(names.filter((name) => !known.includes(name))).toEqual([]);
    expect(new Set(names).size).toBe(names.length);
  });

  it("passes every secret setting only through a secretKeyRef", () => {
    for (const { owner, spec } of renderedPods(objects())) {
      for (const container of spec.containers) {
        expect(container.envFrom ?? [], `${owner.metadata.name} uses envFrom`).toEqual([]);
        for (const variable of (container.env ?? []).filter((v: IEnvVar) => isSecretSetting(v.name))) {
          expect(variable.value, `${owner.metadata.name} ${variable.name}`).toBeUndefined();
          expect(variable.valueFrom?.secretKeyRef?.key, `${owner.metadata.name} ${variable.name}`).toBe(
            variable.name,
          );
        }
      }
    }
  });

  it("reads every other setting from the service's own ConfigMap", () => {
    for (const service of services) {
      const configMap = findObject(objects(), "ConfigMap", `-${service}`);
      const data = configMap.data as Record<string, string>;
      for (const variable of serviceContainer(objects(), service).env ?? []) {
        if (isSecretSetting(variable.name) || nodeVariables.includes(variable.name)) continue;
        expect(variable.valueFrom?.configMapKeyRef).toEqual({
          name: configMap.metadata.name,
          key: variable.name,
        });
        expect(data[variable.name], variable.name).toBeDefined();
      }
    }
  });

  it("keeps secret values and secret settings out of every ConfigMap", () => {
    const values = (scenarioValues(scenario).secret as { values?: Record<string, string> } | undefined)
      ?.values;
    const secrets = Object.values(values ?? {}).filter((value) => value !== "");
    for (const configMap of objects().filter((object) => object.kind === "ConfigMap")) {
      const data = configMap.data as Record<string, string>;
      expect(Object.keys(data).filter(isSecretSetting)).toEqual([]);
      for (const secret of secrets) expect(JSON.stringify(data)).not.toContain(secret);
    }
  });

  it.each(services)(
    "probes the %s at /healthz and /readyz on the port named http, which is PORT",
    (service) => {
      const container = serviceContainer(objects(), service);
      const http = container.ports?.find((port) => port.name === "http");
      expect(http?.containerPort).toBe(defaultPorts[service]);
      expect(configValue(objects(), service, "PORT")).toBe(String(http?.containerPort));
      expect(container.startupProbe?.httpGet).toEqual({ path: "/healthz", port: "http" });
      expect(container.livenessProbe?.httpGet).toEqual({ path: "/healthz", port: "http" });
      expect(container.readinessProbe?.httpGet).toEqual({ path: "/readyz", port: "http" });
      for (const probe of [container.startupProbe, container.livenessProbe, container.readinessProbe]) {
        expect(probe?.timeoutSeconds).toBeGreaterThanOrEqual(3);
      }
    },
  );

  it.each(services)("routes the %s Service to the port named http", (service) => {
    const spec = findObject(objects(), "Service", `-${service}`).spec as {
      ports: { port: number; targetPort: string }[];
    };
    expect(spec.ports).toEqual([
      expect.objectContaining({ port: defaultPorts[service], targetPort: "http" }),
    ]);
  });

  it("points the gateway's WORKER_URL at the worker's Service and port", () => {
    const worker = findObject(objects(), "Service", "-worker").metadata.name;
    expect(configValue(objects(), "gateway", "WORKER_URL")).toBe(`http://${worker}:${defaultPorts.worker}`);
  });

  it.each(services)(
    "gives the %s longer to stop than its shutdown timeout, which counts the delay in, with no preStop",
    (service) => {
      const [pod] = renderedPods([findObject(objects(), "Deployment", `-${service}`)]);
      const delay = Number(configValue(objects(), service, "SHUTDOWN_DELAY_MS"));
      const timeout = Number(configValue(objects(), service, "SHUTDOWN_TIMEOUT_MS"));
      expect(timeout).toBeGreaterThan(delay);
      expect(pod!.spec.terminationGracePeriodSeconds! * 1000).toBeGreaterThan(timeout);
      // The service's own SHUTDOWN_DELAY_MS is the endpoint-removal wait; a preStop sleep would double it.
      expect(pod!.spec.containers[0]!.lifecycle?.preStop).toBeUndefined();
    },
  );

  it("runs every pod hardened: non-root numeric user, read-only root, /tmp only, no privileges, no token", () => {
    for (const { owner, spec } of renderedPods(objects())) {
      const name = `${owner.kind}/${owner.metadata.name}`;
      expect(spec.securityContext?.runAsNonRoot, name).toBe(true);
      expect(spec.securityContext?.runAsUser, name).toBeGreaterThan(0);
      expect(spec.securityContext?.seccompProfile?.type, name).toBe("RuntimeDefault");
      expect(spec.automountServiceAccountToken, name).toBe(false);
      expect(spec.volumes, name).toEqual([{ name: "tmp", emptyDir: expect.any(Object) as object }]);
      for (const container of spec.containers) {
        expect(container.securityContext, name).toEqual({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ["ALL"] },
        });
        expect(container.volumeMounts, name).toEqual([{ name: "tmp", mountPath: "/tmp" }]);
        expect(container.resources?.limits?.memory, name).toBeDefined();
        expect(container.resources?.requests?.memory, name).toBeDefined();
      }
    }
  });

  it("selects pods by stable labels only, never by version or chart", () => {
    const selectors: Record<string, string>[] = [];
    for (const object of objects()) {
      const spec = object.spec as Record<string, unknown> | undefined;
      if (object.kind === "Service") selectors.push(spec!.selector as Record<string, string>);
      if (["Deployment", "PodDisruptionBudget"].includes(object.kind)) {
        selectors.push((spec!.selector as { matchLabels: Record<string, string> }).matchLabels);
      }
      if (object.kind === "NetworkPolicy") {
        selectors.push((spec!.podSelector as { matchLabels: Record<string, string> }).matchLabels);
      }
    }
    expect(selectors.length).toBeGreaterThan(0);
    for (const selector of selectors) {
      expect(Object.keys(selector).sort()).toEqual([
        "app.kubernetes.io/component",
        "app.kubernetes.io/instance",
        "app.kubernetes.io/name",
      ]);
    }
  });

  it("labels every object and pod with the recommended labels", () => {
    const labelSets = [
      ...objects().map((object) => object.metadata.labels ?? {}),
      ...renderedPods(objects()).map((pod) => pod.labels),
    ];
    for (const labels of labelSets) {
      expect(Object.keys(labels)).toEqual(
        expect.arrayContaining([
          "app.kubernetes.io/name",
          "app.kubernetes.io/instance",
          "app.kubernetes.io/component",
          "app.kubernetes.io/version",
          "app.kubernetes.io/part-of",
          "app.kubernetes.io/managed-by",
          "helm.sh/chart",
        ]),
      );
      expect(labels["app.kubernetes.io/part-of"]).toBe("ward");
    }
  });

  it("lets only gateway pods reach the worker, and only on its port", () => {
    const gatewayPods = findObject(objects(), "Deployment", "-gateway").spec as {
      selector: { matchLabels: Record<string, string> };
    };
    const workerPods = findObject(objects(), "Deployment", "-worker").spec as {
      selector: { matchLabels: Record<string, string> };
    };
    const policies = objects().filter((object) => object.kind === "NetworkPolicy");
    const workerPolicies = policies.filter((policy) => {
      const selected = (policy.spec as { podSelector: { matchLabels: Record<string, string> } }).podSelector;
      return Object.entries(selected.matchLabels).every(([k, v]) => workerPods.selector.matchLabels[k] === v);
    });
    expect(workerPolicies).toHaveLength(1);
    const spec = workerPolicies[0]!.spec as { policyTypes: string[]; ingress: unknown[] };
    expect(spec.policyTypes).toContain("Ingress");
    expect(spec.ingress).toEqual([
      {
        from: [{ podSelector: { matchLabels: gatewayPods.selector.matchLabels } }],
        ports: [{ port: defaultPorts.worker, protocol: "TCP" }],
      },
    ]);
  });

  it("isolates every pod the chart runs with a NetworkPolicy, except the helm test Pod", () => {
    const policies = objects().filter((object) => object.kind === "NetworkPolicy");
    const isSelected = (labels: Record<string, string>) =>
      policies.some((policy) =>
        Object.entries(
          (policy.spec as { podSelector: { matchLabels: Record<string, string> } }).podSelector.matchLabels,
        ).every(([key, value]) => labels[key] === value),
      );
    for (const pod of renderedPods(objects()).filter((pod) => pod.owner.kind !== "Pod")) {
      expect(isSelected(pod.labels), pod.owner.metadata.name).toBe(true);
    }
  });
});

describe("egress", () => {
  const rulesOf = (objects: KubeObject[], suffix: string) => {
    const policy = findObject(objects, "NetworkPolicy", suffix);
    const rules = (policy.spec as { egress: { ports: { port: number }[]; to?: unknown[] }[] }).egress;
    return rules.map((rule) => ({ ports: [...new Set(rule.ports.map((p) => p.port))], to: rule.to }));
  };
  const egress = (scenario: string, suffix: string) => rulesOf(renderScenario(scenario), suffix);

  it("lets pods call only DNS, PostgreSQL and Redis, plus the worker for the gateway", () => {
    expect(egress("default-values.yaml", "-gateway").map((rule) => rule.ports)).toEqual([
      [53],
      [5432],
      [6379],
      [8081],
    ]);
    expect(egress("default-values.yaml", "-worker").map((rule) => rule.ports)).toEqual([
      [53],
      [5432],
      [6379],
    ]);
    expect(egress("default-values.yaml", "-migrate").map((rule) => rule.ports)).toEqual([[53], [5432]]);
  });

  const webhookPorts = (url: string) =>
    rulesOf(
      renderChart({ scenario: "existing-secret-values.yaml", set: { "worker.config.webhookUrl": url } }),
      "-worker",
    ).at(-1)!.ports;

  it.each([
    ["http://hooks.internal:8080/ward", [8080]],
    ["http://hooks.internal/ward", [80]],
    ["https://hooks.example.com/ward", [443]],
    ["https://hooks.example.com:8443/ward", [8443]],
  ])("opens the webhook %s on the port it names or its scheme implies", (url, ports) => {
    expect(webhookPorts(url)).toEqual(ports);
  });

  it("opens Sentry with an existing Secret once sentry.enabled says it holds a DSN, and only then", () => {
    const without = renderScenario("existing-secret-values.yaml");
    const withSentry = renderChart({
      scenario: "existing-secret-values.yaml",
      set: { "sentry.enabled": "true" },
    });
    expect(rulesOf(without, "-gateway").map((rule) => rule.ports)).toEqual([[53], [5432], [6379], [8081]]);
    expect(rulesOf(withSentry, "-gateway").map((rule) => rule.ports)).toEqual([
      [53],
      [5432],
      [6379],
      [8081],
      [443],
    ]);
    expect(rulesOf(withSentry, "-worker").map((rule) => rule.ports)).toEqual([
      [53],
      [5432],
      [6379],
      [443],
      [443],
    ]);
  });

  it("opens Sentry on the port of the DSN in the chart's Secret", () => {
    const objects = renderChart({
      scenario: "default-values.yaml",
      set: { "secret.values.SENTRY_DSN": "http://change-me-public-key@sentry.internal:9000/4" },
    });
    expect(rulesOf(objects, "-gateway").at(-1)!.ports).toEqual([9000]);
    expect(rulesOf(objects, "-worker").at(-1)!.ports).toEqual([9000]);
  });

  it("opens the webhook to the worker and Sentry to both when they are configured, and pins CIDRs", () => {
    const gateway = egress("production-values.yaml", "-gateway");
    const worker = egress("production-values.yaml", "-worker");
    expect(gateway.map((rule) => rule.ports)).toEqual([[53], [5432], [6380], [8081], [443]]);
    expect(worker.map((rule) => rule.ports)).toEqual([[53], [5432], [6380], [443], [443]]);
    expect(worker[1]!.to).toEqual([{ ipBlock: { cidr: "10.20.0.0/24" } }]);
  });
});

describe("secrets and rollouts", () => {
  const checksums = (objects: KubeObject[]) =>
    Object.fromEntries(
      services.map((service) => {
        const [pod] = renderedPods([findObject(objects, "Deployment", `-${service}`)]);
        return [service, pod!.annotations];
      }),
    );
  const base = checksums(renderScenario("default-values.yaml"));

  it("changes checksum/secret of both services when a secret both read changes", () => {
    const changed = checksums(
      renderChart({
        scenario: "default-values.yaml",
        set: { "secret.values.WORKER_TOKEN": "change-me-another-worker-token-of-32-chars" },
      }),
    );
    expect(changed.gateway!["checksum/secret"]).not.toBe(base.gateway!["checksum/secret"]);
    expect(changed.worker!["checksum/secret"]).not.toBe(base.worker!["checksum/secret"]);
    expect(changed.gateway!["checksum/config"]).toBe(base.gateway!["checksum/config"]);
  });

  it("rolls only the gateway when JWT_SECRET, which only the gateway reads, changes", () => {
    const changed = checksums(
      renderChart({
        scenario: "default-values.yaml",
        set: { "secret.values.JWT_SECRET": "change-me-another-jwt-secret-of-32-chars" },
      }),
    );
    expect(changed.gateway!["checksum/secret"]).not.toBe(base.gateway!["checksum/secret"]);
    expect(changed.worker!["checksum/secret"]).toBe(base.worker!["checksum/secret"]);
  });

  it("changes checksum/config when a setting changes", () => {
    const changed = checksums(
      renderChart({ scenario: "default-values.yaml", set: { "config.logLevel": "debug" } }),
    );
    expect(changed.gateway!["checksum/config"]).not.toBe(base.gateway!["checksum/config"]);
    expect(changed.worker!["checksum/config"]).not.toBe(base.worker!["checksum/config"]);
  });

  it("with existingSecret, makes no Secret and reads every secret from the existing one", () => {
    const objects = renderScenario("existing-secret-values.yaml");
    expect(objects.filter((object) => object.kind === "Secret")).toEqual([]);
    const refs = secretRefs(objects);
    expect(refs.length).toBeGreaterThan(0);
    expect(new Set(refs.map((ref) => ref.name))).toEqual(new Set(["ward-secrets"]));
  });

  it("marks optional secrets optional, and WEBHOOK_SIGNING_SECRET required once a webhook is set", () => {
    const optional = (objects: KubeObject[], service: "gateway" | "worker", name: string) =>
      serviceContainer(objects, service).env?.find((v) => v.name === name)?.valueFrom?.secretKeyRef?.optional;
    const withoutWebhook = renderScenario("default-values.yaml");
    expect(optional(withoutWebhook, "worker", "WEBHOOK_SIGNING_SECRET")).toBe(true);
    expect(optional(withoutWebhook, "gateway", "JWT_SECRET")).toBeUndefined();
    expect(
      optional(renderScenario("existing-secret-values.yaml"), "worker", "WEBHOOK_SIGNING_SECRET"),
    ).toBeUndefined();
  });

  it("reads SENTRY_DSN, as a required key, exactly when Sentry is on", () => {
    const sentryRef = (objects: KubeObject[], service: "gateway" | "worker") =>
      serviceContainer(objects, service).env?.find((v) => v.name === "SENTRY_DSN")?.valueFrom?.secretKeyRef;
    for (const service of services) {
      expect(sentryRef(renderScenario("default-values.yaml"), service)).toBeUndefined();
      expect(sentryRef(renderScenario("existing-secret-values.yaml"), service)).toBeUndefined();
      const on = renderChart({ scenario: "existing-secret-values.yaml", set: { "sentry.enabled": "true" } });
      expect(sentryRef(on, service)).toEqual({ name: "ward-secrets", key: "SENTRY_DSN" });
      expect(sentryRef(renderScenario("production-values.yaml"), service)).toEqual({
        name: "ward-test",
        key: "SENTRY_DSN",
      });
    }
  });

  it("refuses sentry.enabled when the chart's Secret holds no DSN", () => {
    expect(() => renderChart({ scenario: "default-values.yaml", set: { "sentry.enabled": "true" } })).toThrow(
      /sentry.enabled needs secret.values.SENTRY_DSN/,
    );
  });

  it("refuses a shutdown timeout that does not exceed the delay it counts in", () => {
    expect(() =>
      renderChart({ scenario: "default-values.yaml", set: { "config.shutdownTimeoutMs": "5000" } }),
    ).toThrow(/config.shutdownTimeoutMs \(5000\) is the whole shutdown's deadline/);
  });

  it("refuses to render without a required secret value, naming it", () => {
    expect(() => renderChart({ set: { "secret.values.DATABASE_URL": "x" } })).toThrow(/DATABASE_URL/);
    expect(() =>
      renderChart({ scenario: "default-values.yaml", set: { "secret.values.WORKER_TOKEN": "" } }),
    ).toThrow(/secret.values.WORKER_TOKEN is required/);
  });

  it("refuses a webhook URL without a WEBHOOK_SIGNING_SECRET", () => {
    expect(() =>
      renderChart({
        scenario: "default-values.yaml",
        set: { "worker.config.webhookUrl": "https://hooks.example.com/x" },
      }),
    ).toThrow(/WEBHOOK_SIGNING_SECRET is required when worker.config.webhookUrl is set/);
  });

  it("writes no secret value into the rendered objects other than Secrets", () => {
    const values = (scenarioValues("production-values.yaml").secret as { values: Record<string, string> })
      .values;
    const others = renderScenario("production-values.yaml").filter((object) => object.kind !== "Secret");
    for (const value of Object.values(values)) expect(JSON.stringify(others)).not.toContain(value);
  });
});

describe("autoscaling", () => {
  it("leaves the replica count to the HorizontalPodAutoscaler when it is on", () => {
    const objects = renderScenario("production-values.yaml");
    const deployment = findObject(objects, "Deployment", "-gateway");
    expect((deployment.spec as { replicas?: number }).replicas).toBeUndefined();
    const hpa = findObject(objects, "HorizontalPodAutoscaler", "-gateway");
    expect(hpa.spec).toMatchObject({
      scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: deployment.metadata.name },
      minReplicas: 3,
      maxReplicas: 10,
    });
    expect(objects.filter((object) => object.kind === "HorizontalPodAutoscaler")).toHaveLength(1);
  });

  it("refuses a minimum above the maximum", () => {
    expect(() =>
      renderChart({
        scenario: "production-values.yaml",
        set: { "gateway.autoscaling.minReplicas": "12" },
      }),
    ).toThrow(/gateway.autoscaling.minReplicas \(12\) is above maxReplicas \(10\)/);
  });
});

describe("migration hooks", () => {
  const hookWeight = (object: KubeObject) =>
    Number(object.metadata.annotations?.["helm.sh/hook-weight"] ?? 0);
  const isPreInstallHook = (object: KubeObject) =>
    (object.metadata.annotations?.["helm.sh/hook"] ?? "").split(",").includes("pre-install");

  it.each(["default-values.yaml", "existing-secret-values.yaml"])(
    "run each service's migrate entry point before install and upgrade (%s)",
    (scenario) => {
      const jobs = renderScenario(scenario).filter((object) => object.kind === "Job");
      expect(jobs.map((job) => job.metadata.name).sort()).toEqual([
        "ward-test-gateway-migrate",
        "ward-test-worker-migrate",
      ]);
      for (const job of jobs) {
        expect(job.metadata.annotations?.["helm.sh/hook"]).toBe("pre-install,pre-upgrade");
        const [pod] = renderedPods([job]);
        expect(pod!.spec.containers[0]!.command).toEqual(["node", "dist/migrate.js"]);
        expect(pod!.spec.restartPolicy).toBe("Never");
      }
    },
  );

  it.each(["default-values.yaml", "existing-secret-values.yaml"])(
    "only use what exists before the release's own objects: earlier hooks or the existing Secret (%s)",
    (scenario) => {
      const objects = renderScenario(scenario);
      const existingSecret = (scenarioValues(scenario).secret as { existingSecret?: string }).existingSecret;
      const earlierHook = (kind: string, name: string, weight: number) =>
        objects.some(
          (object) =>
            object.kind === kind &&
            object.metadata.name === name &&
            isPreInstallHook(object) &&
            hookWeight(object) < weight,
        );
      for (const job of objects.filter((object) => object.kind === "Job")) {
        const [pod] = renderedPods([job]);
        expect(earlierHook("ServiceAccount", pod!.spec.serviceAccountName!, hookWeight(job))).toBe(true);
        for (const ref of secretRefs([job])) {
          if (ref.name !== existingSecret)
            expect(earlierHook("Secret", ref.name!, hookWeight(job))).toBe(true);
        }
        const configRefs = (pod!.spec.containers[0]!.env ?? []).filter((v) => v.valueFrom?.configMapKeyRef);
        expect(configRefs).toEqual([]);
      }
    },
  );

  it("give every retry they allow time to run before the Job's deadline", () => {
    for (const job of renderScenario("default-values.yaml").filter((object) => object.kind === "Job")) {
      const { backoffLimit, activeDeadlineSeconds } = job.spec as {
        backoffLimit: number;
        activeDeadlineSeconds: number;
      };
      // Kubernetes waits 10 s before the first retry, doubling, at most 6 minutes.
      const waits = Array.from({ length: backoffLimit }, (_, retry) => Math.min(10 * 2 ** retry, 360));
      const attempts = backoffLimit + 1;
      expect(waits.reduce((sum, wait) => sum + wait, 0) + attempts * 30).toBeLessThanOrEqual(
        activeDeadlineSeconds,
      );
    }
  });

  it("refuse a backoffLimit whose last retries the deadline would cut off", () => {
    expect(() =>
      renderChart({ scenario: "default-values.yaml", set: { "migrations.backoffLimit": "6" } }),
    ).toThrow(/migrations.backoffLimit 6 needs 840 s .* but activeDeadlineSeconds is 600/);
  });

  it("keep the hook Secret down to DATABASE_URL and delete it once the hooks succeed", () => {
    const hookSecrets = renderScenario("default-values.yaml").filter(
      (object) => object.kind === "Secret" && isPreInstallHook(object),
    );
    expect(hookSecrets).toHaveLength(1);
    expect(Object.keys(hookSecrets[0]!.data as object)).toEqual(["DATABASE_URL"]);
    expect(hookSecrets[0]!.metadata.annotations?.["helm.sh/hook-delete-policy"]).toContain("hook-succeeded");
  });
});

describe("memory", () => {
  const mebibyte = 1024 * 1024;
  const units: Record<string, number> = {
    "": 1,
    Ki: 1024,
    Mi: mebibyte,
    Gi: 1024 * mebibyte,
    M: 1e6,
    G: 1e9,
  };
  const bytesOf = (quantity: string | number) => {
    const [, number, unit] = /^([\d.]+)([A-Za-z]*)$/.exec(String(quantity))!;
    return Number(number) * units[unit!]!;
  };
  /** V8's heap limit under the given NODE_OPTIONS, as this machine's node reports it. */
  const heapLimit = (nodeOptions: string) =>
    Number(
      execFileSync(process.execPath, ["-p", "v8.getHeapStatistics().heap_size_limit"], {
        env: { NODE_OPTIONS: nodeOptions },
        encoding: "utf8",
      }),
    );

  it.each(scenarios)(
    "keeps the V8 heap of every ward container within 3/4 of its memory limit (%s)",
    (scenario) => {
      const containers = renderedPods(renderScenario(scenario)).flatMap(({ owner, spec }) =>
        spec.containers.map((container) => ({ name: `${owner.metadata.name}/${container.name}`, container })),
      );
      const limited = containers.filter(({ name }) => !name.endsWith("/test"));
      expect(limited.length).toBeGreaterThan(0);
      for (const { name, container } of limited) {
        const limit = bytesOf(container.resources!.limits!.memory as string);
        const nodeOptions = container.env?.find((variable) => variable.name === "NODE_OPTIONS")?.value;
        expect(nodeOptions, name).toBeDefined();
        expect(heapLimit(nodeOptions!), name).toBeLessThanOrEqual(limit * 0.75);
      }
    },
  );

  it.each(services)(
    "requests more memory for the %s than the 137 MB RSS measured after load, by 20 %",
    (service) => {
      const container = serviceContainer(renderScenario("default-values.yaml"), service);
      expect(bytesOf(container.resources!.requests!.memory as string)).toBeGreaterThanOrEqual(137e6 * 1.2);
    },
  );

  it("refuses a memory limit too small to leave the heap room", () => {
    expect(() =>
      renderChart({ scenario: "default-values.yaml", set: { "gateway.resources.limits.memory": "90Mi" } }),
    ).toThrow(/memory limit 90Mi leaves the V8 heap under 64 MiB/);
  });
});

describe("names", () => {
  const longRelease = "a-release-name-that-uses-all-of-helms-53-characters-x";

  it.each([
    ["a 53-character release name", { releaseName: longRelease }],
    ["a 63-character fullnameOverride", { set: { fullnameOverride: "f".repeat(63) } }],
    ["a long nameOverride", { releaseName: longRelease, set: { nameOverride: "n".repeat(40) } }],
  ])("stay within 63 characters and distinct with %s", (_, options) => {
    const objects = renderChart({ scenario: "default-values.yaml", ...options });
    for (const object of objects) {
      expect(object.metadata.name.length, object.metadata.name).toBeLessThanOrEqual(63);
      expect(object.metadata.name).toMatch(/^[a-z]([-a-z0-9]*[a-z0-9])?$/);
      for (const value of Object.values(object.metadata.labels ?? {}))
        expect(value.length).toBeLessThanOrEqual(63);
    }
    const keys = objects.map((object) => `${object.kind}/${object.metadata.name}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect(findObject(objects, "Deployment", "-gateway").metadata.name).not.toBe(
      findObject(objects, "Deployment", "-worker").metadata.name,
    );
  });

  it("prefix every name with the release, and drop the chart name when the release already has it", () => {
    const names = (releaseName: string) =>
      renderChart({ scenario: "default-values.yaml", releaseName })
        .filter((object) => object.kind === "Deployment")
        .map((object) => object.metadata.name)
        .sort();
    expect(names("shop")).toEqual(["shop-ward-gateway", "shop-ward-worker"]);
    expect(names("ward")).toEqual(["ward-gateway", "ward-worker"]);
  });
});
