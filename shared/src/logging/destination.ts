import pino, { type DestinationStream } from "pino";

let stdout: DestinationStream | undefined;

/**
 * Standard output for JSON lines, shared by every logger of the process: the lines written
 * during one turn of the event loop leave in one write at the end of that turn (a write system
 * call per line cost more than building the line: bench/README.md, "What changed, and what it
 * bought"), and at once when the process exits, crashes included. Writing is synchronous, through
 * pino's SonicBoom, so a line written is never held back for long, nor lost on `process.exit()`,
 * an uncaught exception or an unhandled rejection.
 */
export function batchedStdout(): DestinationStream {
  stdout ??= batchPerTurn(pino.destination({ dest: 1, sync: true }));
  return stdout;
}

function batchPerTurn(target: DestinationStream): DestinationStream {
  let pending: string[] = [];
  let scheduled = false;
  let exiting = false;
  const flush = () => {
    scheduled = false;
    if (pending.length === 0) return;
    const lines = pending.length === 1 ? pending[0]! : pending.join("");
    pending = [];
    target.write(lines);
  };
  process.once("exit", () => {
    exiting = true;
    flush();
  });
  const stream = {
    // pino's logger.flush() lands here: write what is pending now.
    flush(done?: (err?: Error) => void) {
      flush();
      done?.();
    },
    write(line: string) {
      pending.push(line);
      // 'exit' listeners that log after ours run when no later turn will.
      if (exiting) flush();
      else if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
  };
  return stream;
}
