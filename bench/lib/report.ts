import type { VariantFigures } from "./compare.js";
import type { HopFigures } from "../scenarios/hop.js";
import type { ImageFigures } from "../scenarios/images.js";
import type { InboundFigures } from "../scenarios/inbound.js";
import type { ServiceFigures } from "../scenarios/services.js";

export interface BenchResults {
  meta: Record<string, unknown>;
  inbound?: InboundFigures;
  hop?: HopFigures;
  services?: ServiceFigures;
  images?: ImageFigures;
  budgets: Budget[];
}

export interface Budget {
  name: string;
  target: string;
  measured: string;
  pass: boolean;
}

const int = (value: number) => Math.round(value).toLocaleString("en-US");
const ms = (value: number) => (value < 10 ? value.toFixed(2) : value.toFixed(1));
const ratio = (value: number) => `${value.toFixed(2)}×`;

/**
 * The budgets (bench/README.md) checked against one run's figures (ratios within the run).
 *
 * @example
 * const budgets = checkBudgets(inbound, hop, services);
 */
export function checkBudgets(
  inbound: InboundFigures | undefined,
  hop: HopFigures | undefined,
  services: ServiceFigures | undefined,
): Budget[] {
  const budgets: Budget[] = [];
  const atLeast = (name: string, value: number, min: number) =>
    budgets.push({ name, target: `≥ ${ratio(min)}`, measured: ratio(value), pass: value >= min });
  if (inbound) {
    const { bare, ward, fastify } = inbound.variants;
    atLeast("full stack req/s vs bare Hono", ward.median.rps / bare.median.rps, 0.6);
    atLeast("full stack req/s vs Fastify + logger", ward.median.rps / fastify.median.rps, 1);
    const p99 = ward.median.p99 / bare.median.p99;
    budgets.push({
      name: "full stack p99 vs bare Hono p99",
      target: "≤ 2.00×",
      measured: ratio(p99),
      pass: p99 <= 2,
    });
  }
  if (hop)
    atLeast(
      "observed hop req/s vs bare chain",
      hop.variants.ward.median.rps / hop.variants.bare.median.rps,
      0.8,
    );
  if (services) {
    for (const service of ["gateway", "worker"] as const) {
      const cold = services.coldStart[service].median;
      budgets.push({
        name: `${service} cold start`,
        target: "≤ 500 ms",
        measured: `${int(cold)} ms`,
        pass: cold <= 500,
      });
    }
    for (const service of ["gateway", "worker"] as const) {
      const rss = services.rssMb[service];
      budgets.push({
        name: `${service} RSS after load`,
        target: "≤ 128 MB",
        measured: `${int(rss)} MB`,
        pass: rss <= 128,
      });
    }
  }
  return budgets;
}

function loadRow(
  label: string,
  figures: VariantFigures,
  baseline: VariantFigures,
  extra: string[] = [],
): string {
  const { rps, p50, p99, errors, cpuUs = NaN } = figures.median;
  const cpu = Number.isNaN(cpuUs)
    ? "n/a"
    : `${int(cpuUs)} (${ratio(cpuUs / (baseline.median.cpuUs ?? NaN))})`;
  const cells = [
    label,
    int(rps),
    ratio(rps / baseline.median.rps),
    ms(p50),
    ms(p99),
    cpu,
    ...extra,
    int(errors),
  ];
  return `| ${cells.join(" | ")} |`;
}

/**
 * The results as Markdown tables (what `pnpm bench` prints and bench/README.md keeps).
 *
 * @example
 * console.log(formatReport(results));
 */
export function formatReport(results: BenchResults): string {
  const { meta, inbound, hop, services, images, budgets } = results;
  const out: string[] = [];
  const settings = meta.settings as { rounds: number; duration: number; connections: number };
  const runs = `medians of ${settings.rounds} alternating runs of ${settings.duration} s, ${settings.connections} connections`;
  out.push(
    `${String(meta.date)} · ${String(meta.machine)} · Node ${String(meta.node)} · ${String(meta.versions)} · ` +
      `commit ${String(meta.commit)} · ${String(meta.pinning)} · load average before the run ${String(meta.loadBefore)}` +
      (typeof meta.nodeOptions === "string" ? ` · services' NODE_OPTIONS ${meta.nodeOptions}` : ""),
    "",
  );
  if (inbound) {
    const { bare, ward, fastify } = inbound.variants;
    const lines = (name: keyof typeof inbound.linesPerRequest) => inbound.linesPerRequest[name].toFixed(2);
    out.push(
      `Inbound: GET /hello (${runs})`,
      "",
      "| server | req/s | vs bare | p50 ms | p99 ms | server CPU µs/req | log lines/req | errors |",
      "|---|--:|--:|--:|--:|--:|--:|--:|",
      loadRow("bare Hono", bare, bare, [lines("bare")]),
      loadRow("Hono + ward inbound stack", ward, bare, [lines("ward")]),
      loadRow("Fastify 5 + its logger", fastify, bare, [lines("fastify")]),
      "",
    );
  }
  if (hop) {
    const { bare, ward } = hop.variants;
    out.push(
      `One hop: GET /hop → GET /job in a second process (${runs})`,
      "",
      "| chain | req/s | vs bare | p50 ms | p99 ms | servers' CPU µs/req | errors |",
      "|---|--:|--:|--:|--:|--:|--:|",
      loadRow("bare Hono + undici Pool", bare, bare),
      loadRow("ward stack + createServiceClient, both sides", ward, bare),
      "",
    );
  }
  if (services) {
    const { createTask, worker, pipeline, coldStart, rssMb } = services;
    const task = createTask.median;
    const settled =
      pipeline.settledSeconds === undefined
        ? `${int(pipeline.perSecond)} notifications/s; ${int(pipeline.outstanding)} of ${int(pipeline.tasks)} still on their way after ${pipeline.windowSeconds} s`
        : `${int(pipeline.perSecond)} notifications/s; all ${int(pipeline.tasks)} delivered ${ms(pipeline.settledSeconds)} s after the last burst`;
    out.push(
      "Services: built gateway + worker, real PostgreSQL and Redis",
      "",
      "| figure | value |",
      "|---|---|",
      `| POST /api/v1/tasks (gateway → PostgreSQL + outbox) | ${int(task.rps)} req/s, p50 ${ms(task.p50)} ms, p99 ${ms(task.p99)} ms, ${int(task.errors)} errors |`,
      `| POST /v1/notifications (worker accepts, queues) | ${int(worker.accept.rps)} req/s, p50 ${ms(worker.accept.p50)} ms, p99 ${ms(worker.accept.p99)} ms, ${int(worker.accept.errors)} errors |`,
      `| worker drain, stream → stored delivery | ${int(worker.drainPerSecond)} jobs/s (backlog ${int(worker.backlog)} after the burst${worker.drained ? "" : ", NOT drained"}) |`,
      `| outbox → worker → delivered, end to end | ${settled} |`,
      `| cold start to /readyz 200 | gateway ${int(coldStart.gateway.median)} ms, worker ${int(coldStart.worker.median)} ms (median of ${coldStart.gateway.runs.length}) |`,
      `| RSS after load | gateway ${int(rssMb.gateway)} MB, worker ${int(rssMb.worker)} MB |`,
      "",
    );
  }
  if (images && "unavailable" in images) out.push(`Images: not measured (${images.unavailable})`, "");
  else if (images) {
    const { sizeMb, startToReady, withoutCompileCache } = images;
    out.push(
      "Images: built with podman, run as the chart's pods (default values)",
      "",
      "| figure | gateway | worker |",
      "|---|--:|--:|",
      `| image size (uncompressed) | ${int(sizeMb.gateway)} MB | ${int(sizeMb.worker)} MB |`,
      `| podman run to /readyz 200 (median of ${startToReady.gateway.runs.length}) | ${int(startToReady.gateway.median)} ms | ${int(startToReady.worker.median)} ms |`,
      `| the same, compile cache off (baseline) | ${int(withoutCompileCache.gateway.median)} ms | ${int(withoutCompileCache.worker.median)} ms |`,
      ...(services
        ? [
            `| the same service as a process (cold start above) | ${int(services.coldStart.gateway.median)} ms | ${int(services.coldStart.worker.median)} ms |`,
          ]
        : []),
      "",
      ...images.build.map((line) => `${line.replace(/^images: /, "")}  `),
      "",
    );
  }
  if (budgets.length > 0) {
    out.push("| budget | target | measured | |", "|---|---|---|---|");
    for (const budget of budgets) {
      out.push(
        `| ${budget.name} | ${budget.target} | ${budget.measured} | ${budget.pass ? "pass" : "FAIL"} |`,
      );
    }
  }
  return out.join("\n");
}
