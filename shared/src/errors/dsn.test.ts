// Sentry's init is global to the process: this file only ever refuses to start it.
import { describe, expect, it, vi } from "vitest";
import { defineSettings, loadSettings, SettingsError, sentry, summarizeSettings } from "../settings/index.js";
import { initSentry, isSentryDsn } from "./index.js";

describe("isSentryDsn", () => {
  it.each([
    "https://abc123@o1.ingest.sentry.io/42",
    "http://public@127.0.0.1:9000/1",
    "https://key@sentry.example.com/path/to/7",
    "https://key@[::1]:9000/3",
  ])("accepts %s", (dsn) => {
    expect(isSentryDsn(dsn)).toBe(true);
  });

  it.each([
    ["no project id", "https://abc123@o1.ingest.sentry.io/"],
    ["a project id that is not a number", "https://abc123@o1.ingest.sentry.io/project"],
    ["a dash in the public key", "https://abc-123@o1.ingest.sentry.io/42"],
    ["no public key", "https://o1.ingest.sentry.io/42"],
    ["another scheme", "ftp://abc123@o1.ingest.sentry.io/42"],
    ["not a URL", "abc123"],
  ])("refuses a DSN with %s", (_kind, dsn) => {
    expect(isSentryDsn(dsn)).toBe(false);
  });
});

describe("initSentry with a DSN Sentry would refuse", () => {
  it("stays off and prints nothing, where the SDK would print the whole DSN", async () => {
    const dsn = "https://dsn-canary-0123456789@127.0.0.1:9/";
    const printed = vi.spyOn(console, "error").mockImplementation(() => {});
    const written = vi.spyOn(process.stderr, "write");
    try {
      expect(await initSentry({ dsn, service: "test", environment: "test" })).toBe(false);
      expect([...printed.mock.calls, ...written.mock.calls].flat().join("")).not.toContain("dsn-canary");
    } finally {
      printed.mockRestore();
      written.mockRestore();
    }
  });
});

describe("the SENTRY_DSN setting", () => {
  const settings = defineSettings({ ...sentry() });

  it("refuses a URL that is no DSN, naming the variable but not the value", () => {
    const dsn = "https://dsn-canary-0123456789@127.0.0.1:9/";
    const load = () => loadSettings(settings, { env: { SENTRY_DSN: dsn }, envFile: false });
    expect(load).toThrow(SettingsError);
    expect(load).toThrow(/SENTRY_DSN: must be a Sentry DSN/);
    expect(() => load()).not.toThrow(/dsn-canary/);
  });

  it("accepts a DSN, still a secret, and no DSN at all", () => {
    const dsn = "https://abc123@o1.ingest.sentry.io/42";
    const loaded = loadSettings(settings, { env: { SENTRY_DSN: dsn }, envFile: false });
    expect(loaded.SENTRY_DSN).toBe(dsn);
    expect(summarizeSettings(loaded)).toEqual({ SENTRY_DSN: "set" });
    expect(loadSettings(settings, { env: {}, envFile: false }).SENTRY_DSN).toBeUndefined();
  });
});
