/** A readiness watcher: `/readyz` probed like Kubernetes does, every answer kept. */
import { setTimeout as sleep } from "node:timers/promises";
import { waitFor } from "@ward/shared/testing";

/** How often the tests probe `/readyz`, standing in for a Kubernetes probe's `periodSeconds`. */
export const PROBE_PERIOD_MS = 2000;

export interface ReadinessSample {
  at: number;
  /** The HTTP status of /readyz (or /healthz), or "network_error". */
  status: number | "network_error";
}

export interface Watcher {
  samples: ReadinessSample[];
  /** The first sample at or after `since` whose status is `status`. */
  first(status: ReadinessSample["status"], since: number): ReadinessSample | undefined;
  /** Waits for such a sample, up to `timeoutMs`. */
  waitFor(status: ReadinessSample["status"], since: number, timeoutMs?: number): Promise<ReadinessSample>;
  stop(): Promise<void>;
}

/**
 * Probes `url` every `everyMs` (one probe at a time, each given 3 s), keeping every answer.
 *
 * @example
 * const readyz = watch(`${pair.gateway.url}/readyz`);
 * const flipped = await readyz.waitFor(503, outageStartedAt);
 */
export function watch(url: string, everyMs = 100): Watcher {
  const samples: ReadinessSample[] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      let status: ReadinessSample["status"] = "network_error";
      try {
        const response = await fetch(url, { signal: AbortSignal.timeout(3000) });
        await response.arrayBuffer();
        status = response.status;
      } catch {
        // refused, reset or timed out
      }
      samples.push({ at: Date.now(), status });
      await sleep(everyMs);
    }
  })();
  const first = (status: ReadinessSample["status"], since: number) =>
    samples.find((sample) => sample.at >= since && sample.status === status);
  return {
    samples,
    first,
    waitFor: (status, since, timeoutMs = 15_000) =>
      waitFor(() => first(status, since), { timeoutMs, what: `${url} to answer ${status}` }).catch(
        (error: Error) => {
          const seen = samples.filter((sample) => sample.at >= since).map((sample) => sample.status);
          throw new Error(`${error.message}; it answered ${seen.join(", ")}`);
        },
      ),
    async stop() {
      stopped = true;
      await loop;
    },
  };
}
