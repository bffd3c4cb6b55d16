/** One structured log line, normalised from whatever wrapped it (kubectl prefix, dev label, nothing). */
export interface LogLine {
  /** Milliseconds since the epoch, from `ts` (ISO 8601) or else `time` (epoch ms or ISO). */
  time: number;
  level: string;
  /** The `service` field, else the container or label the line was prefixed with, else `?`. */
  service: string;
  /** The pod name from a `kubectl logs --prefix` prefix, when there was one. */
  pod?: string;
  event: string;
  correlationId?: string;
  /** The whole parsed JSON object, for the context fields. */
  record: Record<string, unknown>;
}

// pino's numeric levels, for logs written without a level formatter.
const numericLevels: Record<number, string> = {
  10: "trace",
  20: "debug",
  30: "info",
  40: "warn",
  50: "error",
  60: "fatal",
};

// `[pod/<pod>/<container>]`, as `kubectl logs --prefix` writes it.
const kubectlPrefix = /\[pod\/([^/\]\s]+)\/([^\]\s]+)\]/;
// `[gateway]` (concurrently) or `gateway |` (docker compose) or `gateway:` style labels.
const bracketLabel = /^\[([^\]]+)\]/;
const barLabel = /^([\w.@/-]+)\s*[|:]/;
// eslint-disable-next-line no-control-regex -- stripping terminal colour codes is the point
const ansiCodes = /\u001b\[[0-9;]*m/g;

/**
 * Reads one line of log output. Returns `undefined` for anything that is not a JSON object
 * (noise, pretty-printed logs, blank lines), so callers simply skip it.
 *
 * @example
 * parseLogLine('[pod/ward-gateway-7d9c6b5f4-abcde/gateway] {"ts":"2026-01-01T00:00:00.000Z","level":"info","service":"gateway","event":"request_started","correlation_id":"abc"}');
 * // → { time: 1767225600000, level: "info", service: "gateway", pod: "ward-gateway-7d9c6b5f4-abcde", event: "request_started", correlationId: "abc", record: {...} }
 */
export function parseLogLine(line: string): LogLine | undefined {
  const start = line.indexOf("{");
  if (start === -1) return undefined;
  let record: unknown;
  try {
    record = JSON.parse(line.slice(start));
  } catch {
    return undefined;
  }
  if (typeof record !== "object" || record === null || Array.isArray(record)) return undefined;
  const fields = record as Record<string, unknown>;
  const time = timeOf(fields);
  if (time === undefined) return undefined;

  const prefix = line.slice(0, start).replace(ansiCodes, "").trim();
  const origin = originOf(prefix);
  const service = text(fields.service) ?? origin.container ?? origin.label ?? "?";
  const correlationId = text(fields.correlation_id);
  return {
    time,
    level: levelOf(fields.level),
    service,
    ...(origin.pod === undefined ? {} : { pod: origin.pod }),
    event: text(fields.event) ?? text(fields.msg) ?? "",
    ...(correlationId === undefined ? {} : { correlationId }),
    record: fields,
  };
}

function timeOf(fields: Record<string, unknown>): number | undefined {
  for (const value of [fields.ts, fields.time]) {
    const time =
      typeof value === "number" ? value : typeof value === "string" ? Date.parse(value) : Number.NaN;
    if (Number.isFinite(time)) return time;
  }
  return undefined;
}

function levelOf(level: unknown): string {
  if (typeof level === "number") return numericLevels[level] ?? String(level);
  return text(level)?.toLowerCase() ?? "info";
}

function originOf(prefix: string): { pod?: string; container?: string; label?: string } {
  if (prefix === "") return {};
  const pod = kubectlPrefix.exec(prefix);
  if (pod?.[1] !== undefined && pod[2] !== undefined) return { pod: pod[1], container: pod[2] };
  const label = (bracketLabel.exec(prefix) ?? barLabel.exec(prefix))?.[1]?.trim();
  return label ? { label } : {};
}

function text(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}
