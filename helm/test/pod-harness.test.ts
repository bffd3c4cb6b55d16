/**
 * The chart's pods, run here as processes with exactly what a cluster would give them: the rendered Deployments'
 * environment (ConfigMap and Secret references resolved), command and working directory, after the migration
 * hook Jobs, probed as declared, then one traced request and a SIGTERM. Off-cluster, two things stand in for
 * the cluster's network: every pod's IP is 127.0.0.1, and a Service's DNS name is routed to the pod behind it
 * (see throughService). Nothing else is changed.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { sign } from "hono/jwt";
import {
  createTestDatabase,
  freePort,
  randomSecret,
  TEST_REDIS_URL,
  testKeySpace,
  type LogLine,
  type TestDatabase,
  type TestKeySpace,
} from "@ward/shared/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findObject, renderChart, type KubeObject } from "./chart.js";
import {
  becomeReady,
  planPod,
  portNamed,
  runToCompletion,
  startPod,
  throughService,
  type PodRun,
  type ProbeAttempt,
} from "./pod-harness.js";
import { repoRoot } from "./tools.js";

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
const isHook = (object: KubeObject, hook: string) =>
  (object.metadata.annotations?.["helm.sh/hook"] ?? "").split(",").includes(hook);
const hookWeight = (object: KubeObject) => Number(object.metadata.annotations?.["helm.sh/hook-weight"] ?? 0);

beforeAll(async () => {
  db = await createTestDatabase();
  keys = testKeySpace();
  // The chart's own values, so nothing needs overriding: free ports (other test files run servers too), the
  // local PostgreSQL and Redis, a key space of our own, a short shutdown delay.
  objects = renderChart({
    scenario: "default-values.yaml",
    set: {
      "secret.values.DATABASE_URL": db.url,
      "secret.values.REDIS_URL": TEST_REDIS_URL,
      "secret.values.JWT_SECRET": randomSecret("jwt"),
      "secret.values.WORKER_TOKEN": randomSecret("worker-token"),
      "config.redisKeyPrefix": keys.prefix,
      "config.shutdownDelayMs": "200",
      "gateway.port": String(await freePort()),
      "worker.port": String(await freePort()),
    },
  });

  // helm install runs the pre-install hooks one by one, by weight then name, and stops at a failed Job.
  const jobs = objects
    .filter((object) => object.kind === "Job" && isHook(object, "pre-install"))
    .sort((a, b) => hookWeight(a) - hookWeight(b) || a.metadata.name.localeCompare(b.metadata.name));
  for (const job of jobs) {
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
    expect(hooks.map(({ job, code }) => ({ job, code }))).toEqual([
      { job: "ward-test-gateway-migrate", code: 0 },
      { job: "ward-test-worker-migrate", code: 0 },
    ]);
    for (const { logs } of hooks) expect(logs).toContain('"event":"migrations_done"');
  });

  it.each(services)(
    "starts the %s with the image's command, passes its startup probe, then liveness and readiness",
    async (service) => {
      const attempts = await readiness(service);
      const { container } = pod(service);
      const port = portNamed(container, "http");
      const last = (probe: string) => attempts.filter((attempt) => attempt.probe === probe).at(-1);
      expect(pod(service).argv).toEqual(["node", "--import", "./dist/instrument.js", "dist/main.js"]);
      expect(last("startup")).toMatchObject({ url: `http://127.0.0.1:${port}/healthz`, status: 200 });
      expect(last("liveness")).toMatchObject({ url: `http://127.0.0.1:${port}/healthz`, status: 200 });
      expect(last("readiness")).toMatchObject({ url: `http://127.0.0.1:${port}/readyz`, status: 200 });
    },
    60_000,
  );
});

describe("one request through the gateway", () => {
  const correlationId = `pod-harness-${randomBytes(6).toString("hex")}`;
  let response: Response;

  beforeAll(async () => {
    await Promise.all(services.map(readiness));
    const token = await sign(
      { sub: "pod-harness-user", org_id: "pod-harness-org", exp: Math.floor(Date.now() / 1000) + 600 },
      pod("gateway").env.JWT_SECRET!,
      "HS256",
    );
    const port = portNamed(pod("gateway").container, "http");
    response = await fetch(`http://127.0.0.1:${port}/api/v1/tasks`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${token}`,
        "content-type": "application/json",
        "x-correlation-id": correlationId,
      },
      body: JSON.stringify({ title: "Check the chart runs as it reads" }),
    });
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
    const trace = await run(
      process.execPath,
      ["--conditions=source", "--import", "tsx", "tools/trace/src/main.ts", correlationId],
      logs,
    );
    expect(trace.code, trace.stderr).toBe(0);
    for (const service of services) {
      expect(trace.stdout).toMatch(new RegExp(`${service}\\s+${pod(service).name}\\s+info`));
    }
    expect(trace.stdout).toMatch(/request_completed +POST \/api\/v1\/tasks 201/);
    expect(trace.stdout).toMatch(/job_completed/);
    expect(trace.stdout).toMatch(/gateway → worker · .* · 0 errors/);
  });
});

describe("helm test", () => {
  it("passes: the gateway is ready and hands back the X-Correlation-ID it was sent", async () => {
    await readiness("gateway");
    const test = objects.find((object) => object.kind === "Pod" && isHook(object, "test"));
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

/** Runs a command from the repository root with `input` on stdin. */
function run(command: string, args: string[], input: string) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(command, args, { cwd: repoRoot, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}
