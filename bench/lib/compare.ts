import type { LoadFigures } from "./load.js";

/** Each run of one variant, and the median of each figure over them. */
export interface VariantFigures {
  runs: LoadFigures[];
  median: LoadFigures;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function medianFigures(runs: readonly LoadFigures[]): LoadFigures {
  return {
    rps: median(runs.map((run) => run.rps)),
    p50: median(runs.map((run) => run.p50)),
    p99: median(runs.map((run) => run.p99)),
    requests: median(runs.map((run) => run.requests)),
    errors: runs.reduce((sum, run) => sum + run.errors, 0),
    cpuUs: median(runs.map((run) => run.cpuUs ?? NaN)),
  };
}

/**
 * Measures every variant `rounds` times, alternating (round r starts at variant r, so none is
 * always first or last while the machine warms or tires), after one short warm-up run each.
 *
 * @example
 * const figures = await alternate(["bare", "ward"], 3, (name) => loadTest(urls[name], options), warmUp);
 */
export async function alternate<Name extends string>(
  names: readonly Name[],
  rounds: number,
  measure: (name: Name) => Promise<LoadFigures>,
  warmUp: (name: Name) => Promise<unknown>,
  progress: (line: string) => void = () => {},
): Promise<Record<Name, VariantFigures>> {
  for (const name of names) await warmUp(name);
  const runs = new Map<Name, LoadFigures[]>(names.map((name) => [name, []]));
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(round + i) % names.length]!;
      const figures = await measure(name);
      runs.get(name)!.push(figures);
      progress(
        `  round ${round + 1}/${rounds} ${name}: ${Math.round(figures.rps)} req/s, p99 ${figures.p99} ms`,
      );
    }
  }
  return Object.fromEntries(
    names.map((name) => [name, { runs: runs.get(name)!, median: medianFigures(runs.get(name)!) }]),
  ) as Record<Name, VariantFigures>;
}
