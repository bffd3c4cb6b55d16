import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSentryIngest, type SentryIngest } from "../testing/sentry-ingest.js";

const run = promisify(execFile);
const root = join(import.meta.dirname, "../../..");
const fixtures = join(import.meta.dirname, "fixtures");

let ingest: SentryIngest;
beforeAll(async () => {
  ingest = await startSentryIngest();
});
afterAll(() => ingest.close());

/** Runs the miniature service the way a real one starts: `node --import instrument app`. */
async function startPreloaded(env: Record<string, string>, paths: string[]) {
  const { stdout } = await run(
    process.execPath,
    [
      "--conditions=source",
      "--import",
      "tsx",
      "--import",
      join(fixtures, "instrument.ts"),
      join(fixtures, "app.ts"),
      ...paths,
    ],
    { cwd: root, env: { PATH: process.env.PATH, ENVIRONMENT: "test", ...env }, timeout: 20_000 },
  );
  return JSON.parse(stdout) as { sentryRunning: boolean };
}

describe("Sentry preloaded with node --import", () => {
  it("reports a 5xx with its correlation_id and nothing for a validation error or another 4xx", async () => {
    const { sentryRunning } = await startPreloaded({ SENTRY_DSN: ingest.dsn }, [
      "validation",
      "not-found",
      "boom",
    ]);
    expect(sentryRunning).toBe(true);
    expect(ingest.events()).toHaveLength(1);
    expect(ingest.events()[0]?.tags).toMatchObject({
      correlation_id: "boom",
      service: "preloaded",
      environment: "test",
    });
  });

  it("is not started without SENTRY_DSN", async () => {
    expect(await startPreloaded({}, ["boom"])).toEqual({ sentryRunning: false });
  });
});
