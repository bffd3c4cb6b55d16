/**
 * The images, built for real (scripts/images/build.sh), and the chart's pods run as containers of them, for
 * the default and the production scenario: the migration hook Jobs, then both Deployments probed as declared
 * until Ready, checked from inside (user, read-only root, capabilities), one request traced across both
 * containers' `podman logs`, the helm test Pod, and `podman stop` as the kubelet stops a pod. Where podman or
 * root is missing, these tests say so and skip; with CI=true that is a failure.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  createTestDatabase,
  randomSecret,
  startWebhookReceiver,
  testKeySpace,
  type LogLine,
  type TestDatabase,
  type TestKeySpace,
  type WebhookReceiver,
} from "@ward/shared/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findObject, hookObjects, renderChart, scenarioValues, type KubeObject } from "./chart.js";
import {
  appVersion,
  buildImages,
  containerLogs,
  containersUnavailable,
  imageOf,
  podman,
  quantityBytes,
  runContainerToCompletion,
  startContainer,
  stopContainer,
  type ContainerRun,
} from "./container-harness.js";
import { becomeReady, planPod, type ProbeAttempt } from "./pod-harness.js";
import { repoRoot } from "./tools.js";
import {
  expectMigrated,
  expectProbedReady,
  expectTracedJourney,
  harnessValues,
  postTask,
} from "./pod-journey.js";
import { traceLogs } from "./trace-logs.js";

const services = ["gateway", "worker"] as const;
type ServiceName = (typeof services)[number];
const namespace = "ward";

/** The secret values a scenario file declares. */
const scenarioSecrets = (scenario: string) =>
  (scenarioValues(scenario) as { secret?: { values?: Record<string, string> } }).secret?.values ?? {};

const unavailable = await containersUnavailable();

if (unavailable) {
  describe("the images, run as the chart's pods", () => {
    if (process.env.CI === "true") {
      it("can run containers here (CI=true: the image tests may not be skipped)", () => {
        throw new Error(`the image tests cannot run: ${unavailable}`);
      });
    } else {
      console.warn(`helm/test/containers.test.ts: skipped, ${unavailable}`);
      it.skip(`skipped: ${unavailable}`, () => {});
    }
  });
} else {
  let built = "";
  beforeAll(async () => {
    built = await buildImages();
  }, 20 * 60_000);

  describe.each(services)("the %s image", (service) => {
    let files: string[] = [];

    beforeAll(async () => {
      const list = await podman(
        ["run", "--rm", "--pull=never", "--user=0", "--entrypoint=find", imageOf(service), "/", "-xdev"],
        120_000,
      );
      files = list.split("\n").filter((path) => path !== "");
    }, 180_000);

    it("is built from the repository by scripts/images/build.sh", () => {
      expect(built).toMatch(new RegExp(`ward-${service}:${appVersion} built in \\d+ s`));
      expect(files).toContain("/app/dist/main.js");
    });

    it("holds no test, TypeScript source, .env file, .git or source map of ward's own", () => {
      const ours = files.filter((path) => path.startsWith("/app/") && !path.startsWith("/app/node_modules/"));
      const shared = files.filter((path) => /\/node_modules\/@ward\/shared\//.test(path));
      expect(ours.length).toBeGreaterThan(10);
      expect(shared.length).toBeGreaterThan(10);
      for (const path of [...ours, ...shared]) {
        expect(path).not.toMatch(/\.test\.|\/test\/|\/testing\/|\/src\/|\.tsbuildinfo$/);
        expect(path).not.toMatch(/(?<!\.d)\.ts$/);
      }
      expect(files.filter((path) => /(^|\/)(\.env(\.[^/]*)?|\.git)$/.test(path))).toEqual([]);
    });

    it("holds only the production dependencies the lockfile resolves for it (no dev dependency)", () => {
      // Each installed package is a folder of node_modules/.pnpm named after its resolution in the lockfile.
      const storeFolder = (path: string) => /\/node_modules\/\.pnpm\/([^/]+)\/node_modules\//.exec(path)?.[1];
      const production = new Set(
        execFileSync(
          "pnpm",
          ["--filter", `@ward/${service}`, "list", "--prod", "--depth", "Infinity", "--parseable"],
          {
            cwd: repoRoot,
            encoding: "utf8",
          },
        )
          .split("\n")
          .map((path) => storeFolder(`${path}/`))
          .filter((folder): folder is string => folder !== undefined),
      );
      const installed = new Set(
        files
          .filter((path) => path.startsWith("/app/node_modules/.pnpm/"))
          .map(storeFolder)
          .filter((folder): folder is string => folder !== undefined && !folder.startsWith("@ward+")),
      );
      expect(installed.size).toBeGreaterThan(10);
      expect([...installed].filter((folder) => !production.has(folder))).toEqual([]);
      expect(
        [...installed].filter((folder) => /^(vitest|typescript|tsx|eslint|@types\+)/.test(folder)),
      ).toEqual([]);
    });
  });

  describe.each(["default-values.yaml", "production-values.yaml"])(
    "the %s scenario, as containers",
    (scenario) => {
      let db: TestDatabase | undefined;
      let keys: TestKeySpace | undefined;
      let objects: KubeObject[];
      const hooks: { job: string; code: number | string; logs: string }[] = [];
      const pods: Partial<Record<ServiceName, ContainerRun>> = {};
      const probing: Partial<Record<ServiceName, Promise<ProbeAttempt[]>>> = {};
      /** Where the calls go when the scenario declares a webhook URL (its host does not exist here). */
      let webhookReceiver: WebhookReceiver | undefined;

      const pod = (service: ServiceName) => {
        const run = pods[service];
        if (!run) throw new Error(`the ${service} container did not start`);
        return run;
      };
      const readiness = (service: ServiceName) =>
        probing[service] ?? Promise.reject(new Error(`the ${service} container was not probed`));
      /** A command's output inside a running container (`podman exec`, as its own user). */
      const exec = (service: ServiceName, command: string) =>
        podman(["exec", pod(service).name, "sh", "-c", command]);

      beforeAll(async () => {
        db = await createTestDatabase();
        keys = testKeySpace();
        type WebhookValues = { worker?: { config?: { webhookUrl?: string } } };
        if ((scenarioValues(scenario) as WebhookValues).worker?.config?.webhookUrl) {
          webhookReceiver = await startWebhookReceiver();
        }
        objects = renderChart({
          scenario,
          set: {
            // What makes the render run here (see harnessValues), and what the scenario declares that cannot
            // be off-cluster. Its secrets are placeholders the services refuse, as they should: each gets a
            // real value, Sentry a DSN whose port refuses. Its webhook host does not exist here: the calls come
            // to a receiver of this test's own. And the images are those built here (a scenario's registry and
            // digest name a push of them).
            ...Object.fromEntries(
              Object.keys(scenarioSecrets(scenario)).map((key) => [
                `secret.values.${key}`,
                key === "SENTRY_DSN"
                  ? `http://${randomBytes(16).toString("hex")}@127.0.0.1:9/1`
                  : randomSecret(key),
              ]),
            ),
            ...(await harnessValues(db, keys)),
            ...(webhookReceiver && {
              "worker.config.webhookUrl": webhookReceiver.url,
            }),
            ...Object.fromEntries(
              services.flatMap((service) => [
                [`${service}.image.repository`, `ward-${service}`],
                [`${service}.image.tag`, appVersion],
                [`${service}.image.digest`, ""],
              ]),
            ),
          },
        });

        for (const job of hookObjects(objects, "pre-install", "Job")) {
          const { code, logs } = await runContainerToCompletion(
            planPod(job, objects, namespace),
            objects,
            namespace,
          );
          hooks.push({ job: job.metadata.name, code, logs });
          if (code !== 0)
            throw new Error(`helm install stops here: hook Job ${job.metadata.name} exited ${code}\n${logs}`);
        }
        for (const service of services) {
          const plan = planPod(findObject(objects, "Deployment", `-${service}`), objects, namespace);
          pods[service] = startContainer(plan, objects, namespace);
        }
        for (const service of services) {
          const attempts = becomeReady(pod(service), 120_000);
          attempts.catch(() => {}); // reported by the test that awaits it
          probing[service] = attempts;
        }
      }, 5 * 60_000);

      afterAll(async () => {
        await Promise.all(Object.values(pods).map((run) => run.remove()));
        await keys?.clean();
        await db?.drop();
      }, 60_000);

      it("runs each migration hook Job's container to exit 0 before any pod starts", () => {
        expectMigrated(hooks);
      });

      it.each(services)(
        "starts the %s as declared and probes it Ready: startup, then liveness and readiness",
        async (service) => {
          const attempts = await readiness(service);
          const { container, podmanArgs } = pod(service);
          expectProbedReady(attempts, container);
          // The image's own command (no command or args in the chart), with the rendered limit.
          expect(podmanArgs.at(-1)).toBe(imageOf(service));
          const memory = quantityBytes(container.resources!.limits!.memory!);
          const limit = await podman(["inspect", "--format", "{{.HostConfig.Memory}}", pod(service).name]);
          expect(Number(limit)).toBe(memory);
        },
        180_000,
      );

      it.each(services)(
        "runs the %s as uid 10001 with no capabilities, no new privileges, a read-only root and only /tmp writable",
        async (service) => {
          await readiness(service);
          const status = await exec(service, "cat /proc/1/status");
          const field = (name: string) => new RegExp(`^${name}:\\s*(.*)$`, "m").exec(status)?.[1]?.trim();
          expect(field("Uid")?.split(/\s+/)).toEqual(["10001", "10001", "10001", "10001"]);
          expect(field("Gid")?.split(/\s+/)).toEqual(["10001", "10001", "10001", "10001"]);
          expect(field("CapEff")).toBe("0000000000000000");
          expect(field("CapPrm")).toBe("0000000000000000");
          expect(field("NoNewPrivs")).toBe("1");
          const root = (await exec(service, "cat /proc/1/mountinfo"))
            .split("\n")
            .map((line) => line.split(" "))
            .find((fields) => fields[4] === "/");
          expect(root?.[5]?.split(",")).toContain("ro");
          // Every directory or file the service's user may write, outside the kernel's /proc, /sys and /dev.
          const writable = await exec(
            service,
            "find / \\( -path /proc -o -path /sys -o -path /dev \\) -prune -o -writable -print 2>/dev/null || true",
          );
          const outsideTmp = writable.split("\n").filter((path) => path !== "" && !path.startsWith("/tmp/"));
          expect(outsideTmp).toEqual(["/tmp"]);
        },
        180_000,
      );

      it("answers one request, traced by its correlation ID across both containers' podman logs", async () => {
        await Promise.all(services.map(readiness));
        const correlationId = `containers-${randomBytes(6).toString("hex")}`;
        const response = await postTask(
          pod("gateway"),
          correlationId,
          "Check the images run as the chart reads",
        );
        expect(response.status).toBe(201);
        expect(response.headers.get("x-correlation-id")).toBe(correlationId);
        await pod("worker").process.waitForLog(
          (line: LogLine) => line.event === "job_completed" && line.correlation_id === correlationId,
          30_000,
        );
        const logs = (await containerLogs(pod("gateway"))) + (await containerLogs(pod("worker")));
        const trace = await traceLogs(logs, correlationId);
        expectTracedJourney(trace, { gateway: pod("gateway").name, worker: pod("worker").name });
        if (webhookReceiver) {
          const calls = webhookReceiver.calls.filter((call) => call.json?.correlation_id === correlationId);
          expect(calls).toHaveLength(1);
          expect(calls[0]!.headers["x-ward-signature"]).toEqual(expect.any(String));
        }
      }, 120_000);

      it("passes helm test: its Pod's container reaches the gateway by its Service name and exits 0", async () => {
        await readiness("gateway");
        const [test] = hookObjects(objects, "test", "Pod");
        const { code, logs } = await runContainerToCompletion(
          planPod(test!, objects, namespace),
          objects,
          namespace,
        );
        expect(logs).toContain("ok GET /readyz 200");
        expect(logs).toMatch(/ok X-Correlation-ID helm-test-\d+ came back/);
        expect(code).toBe(0);
      }, 120_000);

      it("stops both containers with podman stop -t <terminationGracePeriodSeconds>: exit 0, shutdown_completed", async () => {
        await Promise.allSettled(services.map(readiness));
        const exits = await Promise.all(services.map((service) => stopContainer(pod(service))));
        expect(exits).toEqual([0, 0]);
        for (const service of services) {
          expect(await containerLogs(pod(service))).toContain('"event":"shutdown_completed"');
        }
      }, 180_000);
    },
  );
}
