import { describe, expect, it } from "vitest";
import { retryDelay } from "./index.js";

describe("retryDelay", () => {
  it("doubles with each attempt: 1 s, 2 s, 4 s at most", () => {
    const highest = (attempt: number) => retryDelay(attempt, { random: () => 0.999999 });
    expect([1, 2, 3].map(highest)).toEqual([1000, 2000, 4000]);
  });

  it("waits at least half the exponential delay", () => {
    const lowest = (attempt: number) => retryDelay(attempt, { random: () => 0 });
    expect([1, 2, 3].map(lowest)).toEqual([500, 1000, 2000]);
  });

  it("never waits longer than maxMs", () => {
    expect(retryDelay(40, { maxMs: 60_000, random: () => 0.999999 })).toBe(60_000);
  });

  it("spreads retries that failed together", () => {
    const delays = new Set(Array.from({ length: 20 }, () => retryDelay(5)));
    expect(delays.size).toBeGreaterThan(1);
  });
});
