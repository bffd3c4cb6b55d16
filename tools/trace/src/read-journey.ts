import { open, type FileHandle } from "node:fs/promises";
import { resolve } from "node:path";
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import { parseLogLine, type LogLine } from "./log-line.js";

/** A log source that could not be opened or read: the CLI reports it and exits 2. */
export class UnreadableSource extends Error {
  constructor(
    readonly source: string,
    readonly reason: string,
  ) {
    super(`cannot read ${source}: ${reason}`);
    this.name = "UnreadableSource";
  }
}

export interface ReadJourneyOptions {
  /** What `-` (or no source at all) reads from. Default: process.stdin. */
  stdin?: Readable;
  /** What relative paths are relative to. Default: process.cwd(). */
  cwd?: string;
}

/**
 * Streams every source line by line (files in the order given, `-` for stdin) and keeps only the
 * lines whose `correlation_id` is exactly `correlationId`, in the order they were read.
 *
 * @example
 * const lines = await readJourney("3f6c…", ["gateway.log", "worker.log"]);
 */
export async function readJourney(
  correlationId: string,
  sources: readonly string[],
  options: ReadJourneyOptions = {},
): Promise<LogLine[]> {
  const stdin = options.stdin ?? process.stdin;
  // Reading the same file twice would only duplicate its lines.
  const paths = sources.length === 0 ? ["-"] : [...new Set(sources)];
  // Open everything first, so a typo in the last path fails before a long read of the first.
  const handles = new Map<string, FileHandle>();
  try {
    for (const path of paths) {
      if (path !== "-") handles.set(path, await openSource(path, options.cwd ?? process.cwd()));
    }
    const journey: LogLine[] = [];
    for (const path of paths) {
      const handle = handles.get(path);
      const input = handle ? handle.createReadStream({ autoClose: false, start: 0 }) : stdin;
      try {
        journey.push(...(await linesOf(correlationId, input)));
      } catch (error) {
        throw new UnreadableSource(path === "-" ? "stdin" : path, reasonOf(error));
      }
    }
    return journey;
  } finally {
    await Promise.all([...handles.values()].map((handle) => handle.close()));
  }
}

// IDs in the contract's safe charset are written verbatim inside JSON strings, so a cheap substring
// test can skip the JSON parse of every other request's lines. Anything else gets parsed every time.
const verbatimInJson = /^[\w.:@~+=-]+$/;

/**
 * Streams one source line by line and keeps only the lines whose `correlation_id` is exactly
 * `correlationId`, in the order they were read; `pod` names their pod when the lines carry no prefix.
 *
 * @example
 * const lines = await linesOf("3f6c…", kubectl.stdout, { pod: "ward-gateway-7d9c6b5f4-abcde" });
 */
export async function linesOf(
  correlationId: string,
  input: Readable,
  origin: { pod?: string } = {},
): Promise<LogLine[]> {
  const needle = verbatimInJson.test(correlationId) ? correlationId : undefined;
  const kept: LogLine[] = [];
  for await (const text of createInterface({ input, crlfDelay: Infinity })) {
    if (needle !== undefined && !text.includes(needle)) continue;
    const line = parseLogLine(text);
    if (line?.correlationId !== correlationId) continue;
    kept.push(origin.pod === undefined || line.pod !== undefined ? line : { ...line, pod: origin.pod });
  }
  return kept;
}

async function openSource(path: string, cwd: string): Promise<FileHandle> {
  try {
    return await open(resolve(cwd, path), "r");
  } catch (error) {
    throw new UnreadableSource(path, reasonOf(error));
  }
}

const reasons: Record<string, string> = {
  ENOENT: "no such file",
  EACCES: "permission denied",
  EISDIR: "it is a directory",
  ENOTDIR: "a parent is not a directory",
};

function reasonOf(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code !== undefined && reasons[code] !== undefined) return reasons[code];
  return error instanceof Error ? error.message : String(error);
}
