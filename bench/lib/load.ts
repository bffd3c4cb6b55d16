import autocannon from "autocannon";
import { cpuSeconds } from "./processes.js";

export interface LoadOptions {
  /** Seconds of load. */
  duration: number;
  /** Open connections, each with one request in flight. */
  connections: number;
  method?: "GET" | "POST";
  headers?: Record<string, string>;
  body?: string;
  /** Changes each request before it is sent (fresh ids, say). */
  eachRequest?: (request: autocannon.Request) => autocannon.Request;
}

/** What one run of load measured. Latencies in milliseconds. */
export interface LoadFigures {
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  /** Connection errors and timeouts plus non-2xx answers. */
  errors: number;
  /** CPU time the server processes spent per request, in µs (see {@link withServerCpu}). */
  cpuUs?: number;
}

/**
 * Adds the CPU time the given server processes used during `run`, per request: a figure the
 * load generator's own limits and other work on the machine disturb far less than req/s.
 *
 * @example
 * const figures = await withServerCpu([server.pid], () => loadTest(url, options));
 */
export async function withServerCpu(pids: number[], run: () => Promise<LoadFigures>): Promise<LoadFigures> {
  const used = () => pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0);
  const before = used();
  const figures = await run();
  return { ...figures, cpuUs: ((used() - before) * 1e6) / figures.requests };
}

/**
 * Loads `url` from this process with autocannon and returns throughput, latency and errors.
 *
 * @example
 * const { rps, p99 } = await loadTest("http://127.0.0.1:3000/hello", { duration: 5, connections: 32 });
 */
export function loadTest(url: string, options: LoadOptions): Promise<LoadFigures> {
  // autocannon's own histogram keeps whole milliseconds; keep each 2xx latency exactly.
  const latencies: number[] = [];
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url,
        duration: options.duration,
        connections: options.connections,
        pipelining: 1,
        method: options.method ?? "GET",
        headers: options.headers,
        body: options.body,
        ...(options.eachRequest && { requests: [{ setupRequest: options.eachRequest }] }),
      },
      (error, result) => {
        if (error) return reject(error instanceof Error ? error : new Error(String(error)));
        latencies.sort((a, b) => a - b);
        const at = (fraction: number) =>
          latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * fraction))] ?? NaN;
        resolve({
          rps: result.requests.total / result.duration,
          p50: at(0.5),
          p99: at(0.99),
          requests: result.requests.total,
          errors: result.errors + result.timeouts + result.non2xx,
        });
      },
    );
    instance.on("response", (_client, statusCode: number, _bytes, responseTime: number) => {
      if (statusCode >= 200 && statusCode < 300) latencies.push(responseTime);
    });
  });
}
