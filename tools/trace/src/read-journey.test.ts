import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readJourney, UnreadableSource } from "./read-journey.js";

let dir: string;

function logLine(event: string, correlationId: string, ms: number): string {
  const ts = new Date(Date.parse("2026-03-02T10:15:04.000Z") + ms).toISOString();
  return JSON.stringify({ ts, level: "info", service: "gateway", event, correlation_id: correlationId });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "trace-read-"));
  await writeFile(
    join(dir, "gateway.log"),
    [
      logLine("request_started", "req-1", 0),
      "gateway listening on :8080",
      logLine("request_started", "req-10", 1),
      "",
      logLine("request_completed", "req-1", 18),
    ].join("\n"),
  );
  await writeFile(join(dir, "worker.log"), `${logLine("job_started", "req-1", 30)}\r\n`);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("readJourney", () => {
  it("keeps only the lines of that exact correlation id, files in the order given", async () => {
    const lines = await readJourney("req-1", ["worker.log", "gateway.log"], { cwd: dir });
    expect(lines.map((line) => line.event)).toEqual(["job_started", "request_started", "request_completed"]);
  });

  it("reads stdin for `-`", async () => {
    const stdin = Readable.from([`${logLine("request_started", "req-1", 0)}\nnoise\n`]);
    const lines = await readJourney("req-1", ["-"], { stdin });
    expect(lines).toHaveLength(1);
  });

  it("reads stdin when no file is given", async () => {
    const stdin = Readable.from([logLine("job_started", "req-1", 0)]);
    expect(await readJourney("req-1", [], { stdin })).toHaveLength(1);
  });

  it("matches ids with characters JSON escapes", async () => {
    const id = 'odd"id\\';
    const stdin = Readable.from([`${logLine("request_started", id, 0)}\n${logLine("x", "odd", 0)}\n`]);
    expect((await readJourney(id, [], { stdin })).map((line) => line.event)).toEqual(["request_started"]);
  });

  it("reports a missing file as unreadable, naming it as given", async () => {
    const reading = readJourney("req-1", ["gateway.log", "missing.log"], { cwd: dir });
    await expect(reading).rejects.toThrow(new UnreadableSource("missing.log", "no such file"));
  });

  it("reports a directory as unreadable", async () => {
    await expect(readJourney("req-1", [dir])).rejects.toThrow("it is a directory");
  });
});
