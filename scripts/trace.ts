/**
 * `pnpm trace <correlation-id> [files...]`: the journey of one request across the gateway and the
 * worker, from log files, `kubectl logs` output (with or without `--prefix`) or stdin.
 *
 * @example
 * kubectl logs -l app.kubernetes.io/part-of=ward --prefix --all-containers | pnpm trace 3f6c2a9e-…
 */
import { readCommandLine } from "./command-line.js";
import { formatJourney, formatSummary } from "./trace/format.js";
import { inTimeOrder, summarize } from "./trace/journey.js";
import { printable } from "./trace/printable.js";
import { readJourney, UnreadableSource } from "./trace/read-journey.js";

const usage = `usage: pnpm trace <correlation-id> [files...]

Prints the journey of one correlation ID across both services, in time order.
Reads the files given (JSON log lines, plain or with a kubectl --prefix or a dev label),
or stdin when there are none or one is "-".

  kubectl logs -l app.kubernetes.io/part-of=ward --all-containers --prefix | pnpm trace <id>
  pnpm trace <id> gateway.log worker.log`;

async function main(argv: string[]): Promise<number> {
  const parsed = readCommandLine("trace", usage, {}, { positionals: true, args: argv });
  const [correlationId, ...sources] = parsed.positionals;
  if (correlationId === undefined || correlationId === "") {
    console.error(usage);
    return 2;
  }
  if (sources.length === 0 && process.stdin.isTTY) {
    console.error("trace: reading log lines from stdin (Ctrl-D to finish)");
  }

  let lines;
  try {
    // pnpm runs scripts from the workspace root; INIT_CWD is where the user typed the command.
    lines = await readJourney(correlationId, sources, { cwd: process.env.INIT_CWD ?? process.cwd() });
  } catch (error) {
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

process.exitCode = await main(process.argv.slice(2));
