import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import type { RunningProcess } from "./index.js";

/**
 * Where `freePort` picks: below the kernel's ephemeral range, which outgoing connections and
 * `listen(0)` draw from. A port picked there can only be taken by another test's pick.
 */
const PICK_RANGE = (() => {
  let low = 32768;
  try {
    low = Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]);
  } catch {
    // Not Linux: the IANA ephemeral range starts at 49152, so 32768 is below it as well.
  }
  return { from: Math.max(1024, low - 16_000), to: low };
})();

/**
 * A TCP port nothing listens on (on any address), for a server a test starts and must know the
 * port of in advance. Another test can still pick the same port before the server binds it: start
 * processes with {@link startListening}, which retries that case.
 *
 * @example
 * const port = await freePort(); // then start a server on it
 */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = PICK_RANGE.from + Math.floor(Math.random() * (PICK_RANGE.to - PICK_RANGE.from));
    if (await bindable(port)) return port;
  }
}

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    // No host: the dual-stack wildcard, as the services bind, so a port taken on any address fails.
    server.listen(port, () => server.close(() => resolve(true)));
  });
}

/**
 * Starts a server process on a free port (`start(port)`) and resolves once it logs
 * `server_listening`. When another process took the port first (it exits with EADDRINUSE), starts
 * it again on a new one: the race between picking a port and binding it cannot fail a test.
 *
 * @example
 * const { run, port } = await startListening((port) => startBuilt("worker", { ...env, PORT: String(port) }));
 */
export async function startListening(
  start: (port: number) => RunningProcess,
  { attempts = 5, timeoutMs = 15_000 } = {},
): Promise<{ run: RunningProcess; port: number }> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const run = start(port);
    const outcome = await Promise.race([
      run.waitForLog((line) => line.event === "server_listening", timeoutMs).then(() => "listening" as const),
      run.exited.then(() => "exited" as const),
    ]).catch(async (error: unknown) => {
      await run.stop("SIGKILL"); // leave no process behind
      throw error;
    });
    if (outcome === "listening") return { run, port };
    const output = run.logs.text() + run.stderr.text();
    if (!output.includes("EADDRINUSE") || attempt === attempts) {
      throw new Error(`the process exited before it listened on port ${port}:\n${output}`);
    }
  }
}
