import { styleText } from "node:util";
import { isAsyncJob, isHop, type JourneySummary } from "./journey.js";
import type { LogLine } from "./log-line.js";
import { printable } from "./printable.js";

export interface FormatOptions {
  /** ANSI colours; decide once from the output stream (TTY, NO_COLOR). Default: false. */
  color?: boolean;
}

type Style = Parameters<typeof styleText>[0];
type Paint = (style: Style, text: string) => string;

/** A piece of output: its visible text, for alignment, and how it is styled. */
interface Cell {
  text: string;
  style?: Style;
}

const serviceColours: Style[] = ["cyan", "magenta", "blue", "yellow", "green"];
const levelStyles: Record<string, Style> = {
  trace: "gray",
  debug: "gray",
  info: "green",
  warn: "yellow",
  error: "red",
  fatal: ["red", "bold"],
};
const jobMarker = "⇢";

/**
 * Renders a journey (already in time order) as aligned rows: offset from the first line, service,
 * pod (when any line came with one), level, event and the interesting context. A `── a → b` row
 * marks every hop to another service or pod; `⇢` marks asynchronous job lines.
 *
 * @example
 * formatJourney(inTimeOrder(lines)).join("\n");
 * //   +0 ms  gateway  info    request_started   POST /api/v1/tasks
 * //  +14 ms  gateway  info    outbound_request  POST → http://127.0.0.1:8081/v1/notifications 202 6 ms
 * //          ── gateway → worker
 * //  +16 ms  worker   info    request_started   POST /v1/notifications
 */
export function formatJourney(journey: readonly LogLine[], options: FormatOptions = {}): string[] {
  const paint = painter(options.color ?? false);
  const first = journey[0];
  if (first === undefined) return [];
  const colourOf = serviceColourer();
  const withPods = journey.some((line) => line.pod !== undefined);

  const rows = journey.map((line): Cell[] => [
    { text: `+${Math.round(line.time - first.time)} ms`, style: "dim" },
    { text: printable(line.service), style: colourOf(line.service) },
    ...(withPods ? [{ text: printable(line.pod ?? ""), style: "dim" as const }] : []),
    { text: printable(line.level), style: levelStyles[line.level] },
    { text: isAsyncJob(line) ? jobMarker : " ", style: "yellow" },
    { text: printable(line.event), style: "bold" },
  ]);
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => row[column]?.text.length ?? 0)));
  const indent = " ".repeat((widths?.[0] ?? 0) + 2);

  const output: string[] = [];
  journey.forEach((line, index) => {
    const previous = journey[index - 1];
    if (previous !== undefined && isHop(previous, line)) {
      output.push(indent + paint("dim", `── ${hopLabel(previous, line)}`));
    }
    const row = rows[index] ?? [];
    const context = describe(line.record, paint);
    const cells = row.map((cell, column) => {
      const width = widths?.[column] ?? 0;
      // Offsets read best right-aligned, like numbers in a table; a last cell needs no padding.
      const text =
        column === 0
          ? cell.text.padStart(width)
          : column === row.length - 1 && context === ""
            ? cell.text
            : cell.text.padEnd(width);
      return cell.style === undefined ? text : paint(cell.style, text);
    });
    // The job marker sits right against its event: `⇢ job_started`.
    const event = `${cells.at(-2) ?? ""} ${cells.at(-1) ?? ""}`;
    output.push([...cells.slice(0, -2), event, ...(context === "" ? [] : [context])].join("  "));
  });
  return output;
}

/**
 * The closing line: how many lines, which services in order of appearance, the total span and the
 * number of error lines.
 *
 * @example
 * formatSummary({ lines: 12, services: ["gateway", "worker"], spanMs: 184, errors: 0 });
 * // "12 lines · gateway → worker · 184 ms · 0 errors"
 */
export function formatSummary(summary: JourneySummary, options: FormatOptions = {}): string {
  const paint = painter(options.color ?? false);
  const errors = plural(summary.errors, "error");
  return [
    plural(summary.lines, "line"),
    summary.services.map(printable).join(" → "),
    duration(summary.spanMs),
    summary.errors > 0 ? paint("red", errors) : errors,
  ].join(" · ");
}

/**
 * A span in the unit a person would say it in: `184 ms`, `2.35 s`, `14.2 s`, `3 min 20 s`.
 *
 * @example
 * duration(2345); // "2.35 s"
 */
export function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  const seconds = Math.round(ms / 1000);
  return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
}

function describe(record: Record<string, unknown>, paint: Paint): string {
  const parts: string[] = [];
  const method = scalar(record.method);
  const path = scalar(record.path);
  const target = scalar(record.target);
  if (method !== undefined) parts.push(method);
  if (path !== undefined) parts.push(path);
  // An outbound call: show where it went.
  if (target !== undefined) parts.push(`→ ${target}`);
  if (typeof record.status_code === "number") {
    parts.push(paint(statusStyle(record.status_code), String(record.status_code)));
  }
  if (typeof record.duration_ms === "number") parts.push(milliseconds(record.duration_ms));
  for (const key of ["task_id", "notification_id", "attempt"] as const) {
    const value = scalar(record[key]);
    if (value !== undefined) parts.push(`${key}=${value}`);
  }
  const error = errorMessage(record.err);
  if (error !== undefined) parts.push(paint("red", `err=${printable(JSON.stringify(error))}`));
  return parts.join(" ");
}

function errorMessage(err: unknown): string | undefined {
  if (typeof err === "string") return err;
  if (typeof err !== "object" || err === null) return undefined;
  const { message, type } = err as { message?: unknown; type?: unknown };
  if (typeof message === "string" && message !== "") return message;
  return typeof type === "string" ? type : undefined;
}

function scalar(value: unknown): string | undefined {
  if (typeof value === "string") return value === "" ? undefined : printable(value);
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return undefined;
}

function milliseconds(value: number): string {
  return `${Number.isInteger(value) ? value : value.toFixed(1)} ms`;
}

function statusStyle(status: number): Style {
  if (status >= 500) return "red";
  if (status >= 400) return "yellow";
  if (status >= 300) return "cyan";
  return "green";
}

function hopLabel(previous: LogLine, line: LogLine): string {
  if (previous.service !== line.service) return `${printable(previous.service)} → ${printable(line.service)}`;
  return `${printable(line.service)} ${printable(previous.pod ?? "")} → ${printable(line.pod ?? "")}`;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}

function painter(color: boolean): Paint {
  // The caller decided once whether colour is wanted, so styleText must not second-guess it.
  return color ? (style, text) => styleText(style, text, { validateStream: false }) : (_, text) => text;
}

function serviceColourer(): (service: string) => Style {
  const assigned = new Map<string, Style>();
  return (service) => {
    let colour = assigned.get(service);
    if (colour === undefined) {
      colour = serviceColours[assigned.size % serviceColours.length] ?? "reset";
      assigned.set(service, colour);
    }
    return colour;
  };
}
