import { describe, expect, it } from "vitest";
import { inTimeOrder, isAsyncJob, isHop, summarize } from "./journey.js";
import { line } from "../test/log-lines.js";

describe("inTimeOrder", () => {
  it("orders lines from different sources by time", () => {
    const worker = line(12, { service: "worker" });
    const gateway = line(0);
    expect(inTimeOrder([worker, gateway])).toEqual([gateway, worker]);
  });

  it("keeps lines with the same time in the order they were read", () => {
    const lines = ["a", "b", "c", "d"].map((event) => line(5, { event }));
    expect(inTimeOrder(lines).map((l) => l.event)).toEqual(["a", "b", "c", "d"]);
  });
});

describe("isHop", () => {
  it("is a hop when the service changes", () => {
    expect(isHop(line(0), line(1, { service: "worker" }))).toBe(true);
  });

  it("is a hop when the same service continues on another pod", () => {
    expect(isHop(line(0, { pod: "ward-worker-a" }), line(1, { pod: "ward-worker-b" }))).toBe(true);
  });

  it("is no hop within one service when the pod is unknown on either side", () => {
    expect(isHop(line(0, { pod: "ward-gateway-a" }), line(1))).toBe(false);
  });
});

describe("isAsyncJob", () => {
  it("recognises queue work by its job_ event", () => {
    expect(isAsyncJob(line(0, { event: "job_retry_scheduled" }))).toBe(true);
    expect(isAsyncJob(line(0, { event: "outbox_enqueued" }))).toBe(false);
  });
});

describe("summarize", () => {
  it("counts lines, lists services in order of appearance, measures the span and counts errors", () => {
    const journey = [
      line(0),
      line(12, { service: "worker" }),
      line(20),
      line(90, { service: "worker", level: "error" }),
      line(184, { service: "worker", level: "fatal" }),
    ];
    expect(summarize(journey)).toEqual({ lines: 5, services: ["gateway", "worker"], spanMs: 184, errors: 2 });
  });
});
