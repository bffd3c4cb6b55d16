import { join } from "node:path";
import { alternate, type VariantFigures } from "../lib/compare.js";
import { loadTest, withServerCpu } from "../lib/load.js";
import { startBenchServer, type BenchServer } from "../lib/processes.js";
import type { BenchSettings } from "./settings.js";

const VARIANTS = ["bare", "ward", "ward-pool", "ward-quiet"] as const;
export type HopVariant = (typeof VARIANTS)[number];

export interface HopFigures {
  variants: Record<HopVariant, VariantFigures>;
}

/**
 * `GET /hop` on a gateway-like front that calls a worker-like back (two processes, both on the
 * server core): ward's stack and service client on both sides vs bare Hono and an undici Pool,
 * and ward without its client's interceptor (`ward-pool`) or without its info lines
 * (`ward-quiet`), to weigh each part.
 *
 * @example
 * const figures = await measureHop(settings);
 */
export async function measureHop(settings: BenchSettings): Promise<HopFigures> {
  const fronts = {} as Record<HopVariant, BenchServer>;
  const pids = {} as Record<HopVariant, number[]>;
  const started: BenchServer[] = [];
  try {
    for (const name of VARIANTS) {
      const back = await startBenchServer(
        "hop.ts",
        ["back", name],
        join(settings.scratch, `hop-back-${name}.log`),
      );
      started.push(back);
      const front = await startBenchServer(
        "hop.ts",
        ["front", name, back.url],
        join(settings.scratch, `hop-front-${name}.log`),
      );
      started.push(front);
      fronts[name] = front;
      pids[name] = [back.pid, front.pid];
    }
    const run = (name: HopVariant, duration: number) =>
      withServerCpu(pids[name], () =>
        loadTest(`${fronts[name].url}/hop`, { duration, connections: settings.connections }),
      );
    const variants = await alternate(
      VARIANTS,
      settings.rounds,
      (name) => run(name, settings.duration),
      (name) => run(name, settings.warmUp),
      settings.progress,
    );
    return { variants };
  } finally {
    await Promise.all(started.map((server) => server.stop()));
  }
}
