import type { VariantFigures } from "./compare.js";
import type { HopFigures } from "../scenarios/hop.js";
import type { ImageFigures } from "../scenarios/images.js";
import type { InboundFigures } from "../scenarios/inbound.js";
import { AGED_ROWS, summary, type OutboxPhase } from "../scenarios/outbox.js";
import type { ServiceFigures } from "../scenarios/services.js";

/**
 * Every budget `pnpm bench` checks, in one place. Speeds are ratios within one run (the machine's
 * speed swings too much for absolute figures); start-up and memory are absolute.
 */
export const BUDGETS = {
  inboundVsBare: { name: "full stack req/s vs bare Hono", atLeast: 0.6, unit: "×" },
  inboundVsFastify: { name: "full stack req/s vs Fastify + logger", atLeast: 1, unit: "×" },
  inboundP99: { name: "full stack p99 vs bare Hono p99", atMost: 2, unit: "×" },
  hop: { name: "observed hop req/s vs bare chain", atLeast: 0.8, unit: "×" },
  outboxFresh: { name: "outbox delivered/s vs accepted/s at saturation", atLeast: 1, unit: "×" },
  outboxAged: {
    name: `the same, ${(AGED_ROWS / 1e6).toString()} M delivered rows in the table`,
    atLeast: 1,
    unit: "×",
  },
  coldStart: { name: "cold start to /readyz 200", atMost: 250, unit: " ms" },
  rss: { name: "RSS after load", atMost: 100, unit: " MB" },
} as const;

type BudgetSpec = { name: string; unit: string } & ({ atLeast: number } | { atMost: number });

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
 * The {@link BUDGETS} checked against one run's figures.
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
  const check = (spec: BudgetSpec, value: number, name = spec.name) => {
    const shown = (n: number) => (spec.unit === "×" ? ratio(n) : `${int(n)}${spec.unit}`);
    budgets.push(
      "atLeast" in spec
        ? { name, target: `≥ ${shown(spec.atLeast)}`, measured: shown(value), pass: value >= spec.atLeast }
        : { name, target: `≤ ${shown(spec.atMost)}`, measured: shown(value), pass: value <= spec.atMost },
    );
  };
  if (inbound) {
    const { bare, ward, fastify } = inbound.variants;
    check(BUDGETS.inboundVsBare, ward.median.rps / bare.median.rps);
    check(BUDGETS.inboundVsFastify, ward.median.rps / fastify.median.rps);
    check(BUDGETS.inboundP99, ward.median.p99 / bare.median.p99);
  }
  if (hop) check(BUDGETS.hop, hop.variants.ward.median.rps / hop.variants.bare.median.rps);
  if (services) {
    // Rounded as printed: a relay that keeps up measures 0.997× as often as 1.003×.
    const keptUp = (phase: OutboxPhase) => Math.round(outboxRatio(phase).median * 100) / 100;
    check(BUDGETS.outboxFresh, keptUp(services.outbox.fresh));
    check(BUDGETS.outboxAged, keptUp(services.outbox.aged));
    for (const service of ["gateway", "worker"] as const) {
      check(BUDGETS.coldStart, services.coldStart[service].median, `${service} ${BUDGETS.coldStart.name}`);
    }
    for (const service of ["gateway", "worker"] as const) {
      check(BUDGETS.rss, services.rssMb[service], `${service} ${BUDGETS.rss.name}`);
    }
  }
  return budgets;
}

function outboxRatio(phase: OutboxPhase) {
  return summary(phase.rounds, (round) => round.deliveredPerSecond / round.acceptedPerSecond);
}

/** "median (min–max)" of one figure over the runs. */
function spread(values: readonly number[], format: (value: number) => string, mid: number): string {
  if (values.length < 2) return format(mid);
  return `${format(mid)} (${format(Math.min(...values))}–${format(Math.max(...values))})`;
}

function loadRow(
  label: string,
  figures: VariantFigures,
  baseline: VariantFigures,
  extra: string[] = [],
): string {
  const { rps, p50, p99, errors, cpuUs = NaN } = figures.median;
  const of = (key: "rps" | "p50" | "p99" | "cpuUs") => figures.runs.map((run) => run[key] ?? NaN);
  const cpu = Number.isNaN(cpuUs)
    ? "n/a"
    : `${spread(of("cpuUs"), int, cpuUs)} (${ratio(cpuUs / (baseline.median.cpuUs ?? NaN))})`;
  const cells = [
    label,
    spread(of("rps"), int, rps),
    ratio(rps / baseline.median.rps),
    spread(of("p50"), ms, p50),
    spread(of("p99"), ms, p99),
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
      loadRow(
        "ward stack + plain Pool (no interceptor, no outbound_request)",
        hop.variants["ward-pool"],
        bare,
      ),
      loadRow(
        "ward stack + createServiceClient, info lines off (LOG_LEVEL=warn)",
        hop.variants["ward-quiet"],
        bare,
      ),
      "",
    );
  }
  if (services) {
    const { createTask, worker, outbox, coldStart, rssMb } = services;
    const task = createTask.median;
    const outboxRow = (label: string, phase: OutboxPhase) => {
      const figure = (
        pick: (round: OutboxPhase["rounds"][number]) => number,
        format: (n: number) => string,
      ) => {
        const { median, min, max } = summary(phase.rounds, pick);
        return `${format(median)} (${format(min)}–${format(max)})`;
      };
      const outstanding = phase.rounds.reduce((sum, round) => sum + round.outstanding, 0);
      const { claim } = phase;
      return (
        `| ${label} | ${figure((r) => r.acceptedPerSecond, int)} | ${figure((r) => r.deliveredPerSecond, int)} | ` +
        `${figure((r) => r.deliveredPerSecond / r.acceptedPerSecond, ratio)} | ${figure((r) => r.lagP50, ms)} | ` +
        `${figure((r) => r.lagP99, ms)} | ${int(outstanding)} | ${int(claim.deliveredRows)} delivered rows: ` +
        `${claim.index ?? "no index"}, ${claim.executionMs.toFixed(3)} ms, ${int(claim.sharedBuffers)} buffers |`
      );
    };
    out.push(
      "Services: built gateway + worker, real PostgreSQL and Redis",
      "",
      "| figure | value |",
      "|---|---|",
      `| POST /api/v1/tasks (gateway → PostgreSQL + outbox) | ${int(task.rps)} req/s, p50 ${ms(task.p50)} ms, p99 ${ms(task.p99)} ms, ${int(task.errors)} errors |`,
      `| POST /v1/notifications (worker accepts, queues) | ${int(worker.accept.rps)} req/s, p50 ${ms(worker.accept.p50)} ms, p99 ${ms(worker.accept.p99)} ms, ${int(worker.accept.errors)} errors |`,
      `| worker drain, stream → stored delivery | ${int(worker.drainPerSecond)} jobs/s (backlog ${int(worker.backlog)} after the burst${worker.drained ? "" : ", NOT drained"}) |`,
      `| cold start to /readyz 200 | gateway ${spread(coldStart.gateway.runs, int, coldStart.gateway.median)} ms, worker ${spread(coldStart.worker.runs, int, coldStart.worker.median)} ms (median of ${coldStart.gateway.runs.length}) |`,
      ...(["gateway", "worker"] as const).map((service) => {
        const { imports, settings, setUp, firstReadiness } = coldStart[service].phases;
        return `| ${service} start-up, where it goes (medians) | imports ${int(imports)} ms, settings ${int(settings)} ms, set-up to listening ${int(setUp)} ms, connections to first /readyz 200 ${int(firstReadiness)} ms |`;
      }),
      `| RSS after load | gateway ${int(rssMb.gateway)} MB, worker ${int(rssMb.worker)} MB |`,
      "",
      `Outbox: POST /api/v1/tasks at saturation, each round's notifications followed to the worker (medians of ${outbox.fresh.rounds.length} rounds, min–max)`,
      "",
      "| table | accepted/s | delivered/s | ratio | lag p50 ms | lag p99 ms | never arrived | one claim (EXPLAIN ANALYZE) |",
      "|---|--:|--:|--:|--:|--:|--:|---|",
      outboxRow("as the run left it", outbox.fresh),
      outboxRow(`${int(AGED_ROWS)} delivered rows pre-loaded`, outbox.aged),
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
