import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { request } from "undici";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));

const CORES = availableParallelism();
// One core serves, the other loads, when taskset can say so (Linux with two cores or more).
const CAN_PIN = CORES >= 2 && spawnSync("taskset", ["-V"]).status === 0;

/** Which core the servers and the load generator run on, or why they are not pinned. */
export const PINNING = CAN_PIN
  ? { server: "1", load: "0" }
  : { server: undefined, load: undefined, reason: "taskset missing or one core" };

/** Pins this process (the load generator) to its core, or lets it use them all again. */
export function pinSelf(pinned: boolean): void {
  if (!CAN_PIN) return;
  const cpus = pinned ? PINNING.load! : `0-${CORES - 1}`;
  spawnSync("taskset", ["-a", "-pc", cpus, String(process.pid)], { stdio: "ignore" });
}

export interface BenchServer {
  child: ChildProcess;
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/**
 * Starts `bench/servers/<script>` with tsx on the server core, its stdout (the log) going to
 * `logFile`, and resolves once it reports the port it listens on (over IPC).
 *
 * @example
 * const server = await startBenchServer("inbound.ts", ["ward"], join(scratch, "ward.log"));
 */
export function startBenchServer(
  script: string,
  args: string[],
  logFile: string,
  nodeFlags: string[] = [],
): Promise<BenchServer> {
  const log = openSync(logFile, "w");
  const node = [process.execPath, ...nodeFlags, "--import", "tsx", `${ROOT}bench/servers/${script}`, ...args];
  const [command, ...rest] = PINNING.server ? ["taskset", "-c", PINNING.server, ...node] : node;
  const child = spawn(command!, rest, { cwd: ROOT, stdio: ["ignore", log, "inherit", "ipc"] });
  closeSync(log);
  return new Promise((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`${script} ${args.join(" ")} exited with ${code}`)));
    child.once("message", (message: { port: number }) => {
      child.removeAllListeners("exit");
      resolve({
        child,
        url: `http://127.0.0.1:${message.port}`,
        pid: child.pid!,
        stop: () => stopProcess(child),
      });
    });
  });
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
export function stopProcess(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill("SIGKILL"), graceMs);
    child.once("exit", () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

/** Polls `url` until it answers 200; resolves to the milliseconds since `since`. */
export async function waitForOk(url: string, since: number, timeoutMs = 20_000): Promise<number> {
  for (;;) {
    try {
      const res = await request(url, { headersTimeout: 1000, bodyTimeout: 1000 });
      await res.body.dump();
      if (res.statusCode === 200) return performance.now() - since;
    } catch {
      // Not listening yet.
    }
    if (performance.now() - since > timeoutMs)
      throw new Error(`${url} did not answer 200 in ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Resident set size of a process in MB, from /proc or ps. */
export function rssMb(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]);
    return kb / 1024;
  } catch {
    const ps = spawnSync("ps", ["-o", "rss=", "-p", String(pid)], { encoding: "utf8" });
    return Number(ps.stdout.trim()) / 1024;
  }
}

const TICKS_PER_SECOND = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout.trim()) || 100;

/** CPU time (user + system) a process has used so far, in seconds; NaN where /proc is missing. */
export function cpuSeconds(pid: number): number {
  try {
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return NaN;
  }
}

/** Lines in a log file (what a server wrote). */
export function countLines(file: string): number {
  const text = readFileSync(file);
  let lines = 0;
  for (let i = text.indexOf(10); i !== -1; i = text.indexOf(10, i + 1)) lines++;
  return lines;
}
