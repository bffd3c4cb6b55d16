import { join } from "node:path";
import { alternate, type VariantFigures } from "../lib/compare.js";
import { loadTest, withServerCpu } from "../lib/load.js";
import { countLines, startBenchServer, type BenchServer } from "../lib/processes.js";
import type { BenchSettings } from "./settings.js";

const VARIANTS = ["bare", "ward", "fastify"] as const;
export type InboundVariant = (typeof VARIANTS)[number];

export interface InboundFigures {
  variants: Record<InboundVariant, VariantFigures>;
  /** Log lines written per request served (ward and fastify; bare writes none). */
  linesPerRequest: Record<InboundVariant, number>;
}

/**
 * `GET /hello` on bare Hono, on Hono behind ward's inbound stack, and on Fastify 5 with its
 * logger: one server process each (on the server core), loaded in alternation.
 *
 * @example
 * const figures = await measureInbound(settings);
 */
export async function measureInbound(settings: BenchSettings): Promise<InboundFigures> {
  const logs = Object.fromEntries(
    VARIANTS.map((name) => [name, join(settings.scratch, `inbound-${name}.log`)]),
  );
  const servers = {} as Record<InboundVariant, BenchServer>;
  try {
    for (const name of VARIANTS) servers[name] = await startBenchServer("inbound.ts", [name], logs[name]!);
    const run = (name: InboundVariant, duration: number) =>
      withServerCpu([servers[name].pid], () =>
        loadTest(`${servers[name].url}/hello`, { duration, connections: settings.connections }),
      );
    const served = Object.fromEntries(VARIANTS.map((name) => [name, 0])) as Record<InboundVariant, number>;
    const variants = await alternate(
      VARIANTS,
      settings.rounds,
      async (name) => run(name, settings.duration),
      async (name) => (served[name] += (await run(name, settings.warmUp)).requests),
      settings.progress,
    );
    for (const name of VARIANTS) served[name] += variants[name].runs.reduce((sum, r) => sum + r.requests, 0);
    for (const name of VARIANTS) await servers[name].stop();
    const linesPerRequest = Object.fromEntries(
      VARIANTS.map((name) => [name, countLines(logs[name]!) / served[name]]),
    ) as Record<InboundVariant, number>;
    return { variants, linesPerRequest };
  } finally {
    await Promise.all(Object.values<BenchServer>(servers).map((server) => server.stop()));
  }
}
