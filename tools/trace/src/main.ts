/**
 * `pnpm trace <correlation-id> [files...]` and `pnpm trace <correlation-id> --kubectl`: the journey of
 * one request across the gateway and the worker, from log files, `kubectl logs` output (with or
 * without `--prefix`), stdin, or the release's pods themselves.
 *
 * @example
 * pnpm trace 3f6c2a9e-… --kubectl -n ward --release ward
 */
import { readCommandLine } from "../../../scripts/command-line.js";
import { formatJourney, formatSummary } from "./format.js";
import { inTimeOrder, summarize } from "./journey.js";
import { readKubectlJourney } from "./kubectl.js";
import type { LogLine } from "./log-line.js";
import { printable } from "./printable.js";
import { readJourney, UnreadableSource } from "./read-journey.js";

const usage = `usage: pnpm trace <correlation-id> [files...]
       pnpm trace <correlation-id> --kubectl [-n NAMESPACE] [--release NAME] [--context CONTEXT]

Prints the journey of one correlation ID across both services, in time order.
Reads the files given (JSON log lines, plain or with a kubectl --prefix or a dev label),
or stdin when there are none or one is "-".

With --kubectl it reads the cluster itself: the release's gateway and worker pods, every
container's current logs and, after a restart, its previous ones. Pods with no logs yet
(creating, pending, pulling) are noted on stderr, not fatal.

  -n, --namespace NAMESPACE  the release's namespace (default: the context's)
      --release NAME         the helm release (default: ward)
      --context CONTEXT      the kubectl context (default: the current one)
  -h, --help                 this text

  pnpm trace <id> --kubectl -n ward
  kubectl logs -l app.kubernetes.io/instance=ward --all-containers --prefix | pnpm trace <id>
  pnpm trace <id> gateway.log worker.log`;

const options = {
  kubectl: { type: "boolean" },
  namespace: { type: "string", short: "n" },
  release: { type: "string" },
  context: { type: "string" },
} as const;

/** A bad combination of arguments: one line on stderr, exit 2, as readCommandLine answers a bad flag. */
class UsageError extends Error {}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = readCommandLine("trace", usage, options, { positionals: true, args: argv });
  const [correlationId, ...sources] = positionals;
  if (correlationId === undefined || correlationId === "") {
    console.error(usage);
    return 2;
  }

  let lines: LogLine[];
  try {
    lines = values.kubectl
      ? await readFromCluster(correlationId, sources, values)
      : await readFromLogs(correlationId, sources, values);
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`trace: ${error.message} (pnpm trace --help shows the usage)`);
      return 2;
    }
    if (!(error instanceof UnreadableSource)) throw error;
    console.error(`trace: cannot read ${printable(error.source)}: ${printable(error.reason)}`);
    return 2;
  }
  if (lines.length === 0) {
    console.error(`no log line carries correlation id ${printable(correlationId)}`);
    return 1;
  }

  // Decided once: colour only on a terminal that wants it (hasColors honours NO_COLOR and FORCE_COLOR).
  const color = process.stdout.isTTY && process.stdout.hasColors();
  const journey = inTimeOrder(lines);
  const output = [...formatJourney(journey, { color }), "", formatSummary(summarize(journey), { color })];
  process.stdout.write(`${output.join("\n")}\n`);
  return 0;
}

type Flags = { namespace?: string; release?: string; context?: string };

async function readFromCluster(correlationId: string, sources: string[], flags: Flags): Promise<LogLine[]> {
  if (sources.length > 0) throw new UsageError("--kubectl reads the cluster, not files or stdin");
  const { lines, notes } = await readKubectlJourney(correlationId, flags);
  for (const note of notes) console.error(`trace: ${printable(note)}`);
  return lines;
}

async function readFromLogs(correlationId: string, sources: string[], flags: Flags): Promise<LogLine[]> {
  const clusterFlag = (["namespace", "release", "context"] as const).find(
    (name) => flags[name] !== undefined,
  );
  if (clusterFlag) throw new UsageError(`--${clusterFlag} needs --kubectl`);
  if (sources.length === 0 && process.stdin.isTTY) {
    console.error("trace: reading log lines from stdin (Ctrl-D to finish)");
  }
  // pnpm runs scripts from the workspace root; INIT_CWD is where the user typed the command.
  return readJourney(correlationId, sources, { cwd: process.env.INIT_CWD ?? process.cwd() });
}

process.exitCode = await main(process.argv.slice(2));
