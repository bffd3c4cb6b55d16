/**
 * What the pod harness checks the same way whether the chart's pods run as processes (pod-harness.test.ts)
 * or as containers of the built images (containers.test.ts): the values that make a render runnable here, the
 * migration hooks, the probes, and one request traced across both services.
 */
import type { IContainer } from "kubernetes-models/v1/Container";
import { sign } from "hono/jwt";
import {
  freePort,
  randomSecret,
  TEST_REDIS_URL,
  type TestDatabase,
  type TestKeySpace,
} from "@ward/shared/testing";
import { expect } from "vitest";
import { portNamed, type PodPlan, type ProbeAttempt } from "./pod-harness.js";

/**
 * The --set values that make a render run here and nowhere near another test: this machine's PostgreSQL and
 * Redis (a database and key space of the test's own), fresh secrets, free ports (other test files run
 * servers too), a short shutdown delay.
 */
export async function harnessValues(db: TestDatabase, keys: TestKeySpace): Promise<Record<string, string>> {
  return {
    "secret.values.DATABASE_URL": db.url,
    "secret.values.REDIS_URL": TEST_REDIS_URL,
    "secret.values.JWT_SECRET": randomSecret("jwt"),
    "secret.values.WORKER_TOKEN": randomSecret("worker-token"),
    "config.redisKeyPrefix": keys.prefix,
    "config.shutdownDelayMs": "200",
    "gateway.port": String(await freePort()),
    "worker.port": String(await freePort()),
  };
}

/** Both migration hook Jobs ran, in helm's order, to exit 0, and applied their migrations. */
export function expectMigrated(hooks: readonly { job: string; code: number | string; logs: string }[]): void {
  expect(hooks.map(({ job, code }) => ({ job, code }))).toEqual([
    { job: "ward-test-gateway-migrate", code: 0 },
    { job: "ward-test-worker-migrate", code: 0 },
  ]);
  for (const { logs } of hooks) expect(logs).toContain('"event":"migrations_done"');
}

/** The last startup, liveness and readiness probes succeeded on the paths and port the chart declares. */
export function expectProbedReady(attempts: readonly ProbeAttempt[], container: IContainer): void {
  const port = portNamed(container, "http");
  const last = (probe: string) => attempts.filter((attempt) => attempt.probe === probe).at(-1);
  expect(last("startup")).toMatchObject({ url: `http://127.0.0.1:${port}/healthz`, status: 200 });
  expect(last("liveness")).toMatchObject({ url: `http://127.0.0.1:${port}/healthz`, status: 200 });
  expect(last("readiness")).toMatchObject({ url: `http://127.0.0.1:${port}/readyz`, status: 200 });
}

/**
 * POST /api/v1/tasks to the gateway pod with a JWT signed with its rendered JWT_SECRET and the given
 * correlation ID.
 */
export async function postTask(
  gateway: Pick<PodPlan, "env" | "container">,
  correlationId: string,
  title: string,
): Promise<Response> {
  const token = await sign(
    { sub: "pod-harness-user", org_id: "pod-harness-org", exp: Math.floor(Date.now() / 1000) + 600 },
    gateway.env.JWT_SECRET!,
    "HS256",
  );
  return fetch(`http://127.0.0.1:${portNamed(gateway.container, "http")}/api/v1/tasks`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${token}`,
      "content-type": "application/json",
      "x-correlation-id": correlationId,
    },
    body: JSON.stringify({ title }),
  });
}

/** `pnpm trace` found the request in both pods' logs, from the gateway's 201 to the worker's job, error-free. */
export function expectTracedJourney(
  trace: { code: number | null; stdout: string; stderr: string },
  podNames: Record<"gateway" | "worker", string>,
): void {
  expect(trace.code, trace.stderr).toBe(0);
  for (const [service, name] of Object.entries(podNames)) {
    expect(trace.stdout).toMatch(new RegExp(`${service}\\s+${name}\\s+info`));
  }
  expect(trace.stdout).toMatch(/request_completed +POST \/api\/v1\/tasks 201/);
  expect(trace.stdout).toMatch(/job_completed/);
  expect(trace.stdout).toMatch(/gateway → worker · .* · 0 errors/);
}
