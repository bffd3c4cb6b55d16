/**
 * The chart's pods, run here as processes with exactly what a cluster would give them: the rendered Deployments'
 * environment (ConfigMap and Secret references resolved), command and working directory, after the migration
 * hook Jobs, probed as declared, then one traced request and a SIGTERM. Off-cluster, two things stand in for
 * the cluster's network: every pod's IP is 127.0.0.1, and a Service's DNS name is routed to the pod behind it
 * (see throughService). Nothing else is changed.
 */
import { randomBytes } from "node:crypto";
import {
  createTestDatabase,
  testKeySpace,
  type LogLine,
  type TestDatabase,
  type TestKeySpace,
} from "@ward/shared/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findObject, hookObjects, renderChart, type KubeObject } from "./chart.js";
import {
  becomeReady,
  planPod,
  runToCompletion,
  startPod,
  throughService,
  type PodRun,
  type ProbeAttempt,
} from "./pod-harness.js";
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

let db: TestDatabase | undefined;
let keys: TestKeySpace | undefined;
let objects: KubeObject[];
const hooks: { job: string; code: number | string; logs: string }[] = [];
const pods: Partial<Record<ServiceName, PodRun>> = {};
const probing: Partial<Record<ServiceName, Promise<ProbeAttempt[]>>> = {};

const pod = (service: ServiceName) => {
  const run = pods[service];
  if (!run) throw new Error(`the ${service} pod did not start`);
  return run;
};
/** The probe attempts that made the service's pod Ready (rejects if it never got there). */
const readiness = (service: ServiceName) =>
  probing[service] ?? Promise.reject(new Error(`the ${service} pod was not probed`));

beforeAll(async () => {
  db = await createTestDatabase();
  keys = testKeySpace();
  // The chart's own values, but for what makes the render run here (see harnessValues).
  objects = renderChart({ scenario: "default-values.yaml", set: await harnessValues(db, keys) });

  // helm install runs the pre-install hooks one by one, by weight then name, and stops at a failed Job.
  for (const job of hookObjects(objects, "pre-install", "Job")) {
    const { code, logs } = await runToCompletion(planPod(job, objects, namespace));
    hooks.push({ job: job.metadata.name, code, logs });
    if (code !== 0)
      throw new Error(`helm install stops here: hook Job ${job.metadata.name} exited ${code}\n${logs}`);
  }

  for (const service of services) {
    const plan = planPod(findObject(objects, "Deployment", `-${service}`), objects, namespace);
    // WORKER_URL names the worker's Service, which no DNS resolves here: route it as the cluster would.
    if (service === "gateway") plan.env.WORKER_URL = throughService(plan.env.WORKER_URL!, objects);
    pods[service] = startPod(plan);
  }
  for (const service of services) {
    const attempts = becomeReady(pod(service));
    attempts.catch(() => {}); // reported by the test that awaits it
    probing[service] = attempts;
  }
}, 60_000);

afterAll(async () => {
  for (const run of Object.values(pods)) {
    if (run.process.child.exitCode === null && run.process.child.signalCode === null) {
      run.process.child.kill("SIGKILL");
      await run.process.exited;
    }
  }
  await keys?.clean();
  await db?.drop();
});

describe("helm install, off-cluster", () => {
  it("runs each migration hook Job's command to exit 0 before any pod starts", () => {
    expectMigrated(hooks);
  });

  it.each(services)(
    "starts the %s with the image's command, passes its startup probe, then liveness and readiness",
    async (service) => {
      const attempts = await readiness(service);
      expect(pod(service).argv).toEqual(["node", "--import", "./dist/instrument.js", "dist/main.js"]);
      expectProbedReady(attempts, pod(service).container);
    },
    60_000,
  );
});

describe("one request through the gateway", () => {
  const correlationId = `pod-harness-${randomBytes(6).toString("hex")}`;
  let response: Response;

  beforeAll(async () => {
    await Promise.all(services.map(readiness));
    response = await postTask(pod("gateway"), correlationId, "Check the chart runs as it reads");
    await pod("worker").process.waitForLog(
      (line: LogLine) => line.event === "job_completed" && line.correlation_id === correlationId,
      20_000,
    );
  });

  it("is accepted with a JWT signed with the rendered JWT_SECRET, and keeps its correlation ID", () => {
    expect(response.status).toBe(201);
    expect(response.headers.get("x-correlation-id")).toBe(correlationId);
  });

  it("shows in both pods' logs, as `kubectl logs --prefix | pnpm trace <id>` reads them", async () => {
    const logs = pod("gateway").logs() + pod("worker").logs();
    const trace = await traceLogs(logs, correlationId);
    expectTracedJourney(trace, { gateway: pod("gateway").name, worker: pod("worker").name });
  });
});

describe("helm test", () => {
  it("passes: the gateway is ready and hands back the X-Correlation-ID it was sent", async () => {
    await readiness("gateway");
    const [test] = hookObjects(objects, "test", "Pod");
    const plan = planPod(test!, objects, namespace);
    // GATEWAY_URL names the gateway's Service: routed as the cluster would.
    plan.env.GATEWAY_URL = throughService(plan.env.GATEWAY_URL!, objects);
    const { code, logs } = await runToCompletion(plan);
    expect(logs).toContain("ok GET /readyz 200");
    expect(logs).toMatch(/ok X-Correlation-ID helm-test-\d+ came back/);
    expect(code).toBe(0);
  });
});

describe("on SIGTERM", () => {
  const exits: Partial<Record<ServiceName, number | string>> = {};

  beforeAll(async () => {
    await Promise.allSettled(services.map(readiness));
    // As the kubelet does, for every pod of an uninstall at once: SIGTERM, then SIGKILL when the grace
    // period is over.
    await Promise.all(
      services.map(async (service) => {
        const { process: running, pod: spec } = pod(service);
        const grace = spec.spec.terminationGracePeriodSeconds ?? 30;
        const kill = setTimeout(() => running.child.kill("SIGKILL"), grace * 1000);
        exits[service] = await running.stop("SIGTERM");
        clearTimeout(kill);
      }),
    );
  }, 60_000);

  it.each(services)("the %s exits 0 within its pod's terminationGracePeriodSeconds", (service) => {
    expect(exits[service], pod(service).logs()).toBe(0);
  });
});
