import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import {
  bindContext,
  currentContext,
  currentCorrelationId,
  currentOrNewCorrelationId,
  isValidCorrelationId,
  MAX_CORRELATION_ID_LENGTH,
  newCorrelationId,
  withCorrelation,
} from "./index.js";

describe("withCorrelation", () => {
  it("keeps 500 interleaved concurrent tasks apart", async () => {
    const seen = await Promise.all(
      Array.from({ length: 500 }, (_, i) =>
        withCorrelation(`task-${i}`, async () => {
          const ids: (string | undefined)[] = [];
          for (let step = 0; step < 3; step++) {
            // Random waits interleave the tasks' continuations.
            await sleep(Math.floor(Math.random() * 5));
            ids.push(currentCorrelationId());
            await Promise.resolve();
            ids.push(currentContext()?.correlation_id);
          }
          return { expected: `task-${i}`, ids };
        }),
      ),
    );
    for (const { expected, ids } of seen) expect(ids).toEqual(Array(6).fill(expected));
  });

  it("returns what the function returns", async () => {
    expect(withCorrelation("sync-1", () => 42)).toBe(42);
    await expect(withCorrelation("async-1", () => Promise.resolve("done"))).resolves.toBe("done");
  });

  it("starts the context with the given fields", () => {
    withCorrelation("req-1", () => expect(currentContext()).toEqual({ correlation_id: "req-1", job: "j1" }), {
      job: "j1",
    });
  });

  it("does not let fields override the correlation ID", () => {
    withCorrelation("req-1", () => expect(currentCorrelationId()).toBe("req-1"), { correlation_id: "evil" });
  });

  it("has no context outside of it", async () => {
    await withCorrelation("req-1", () => sleep(1));
    expect(currentCorrelationId()).toBeUndefined();
    expect(currentContext()).toBeUndefined();
  });

  it("restores the outer context after a nested one", () => {
    withCorrelation("outer", () => {
      withCorrelation("inner", () => expect(currentCorrelationId()).toBe("inner"));
      expect(currentCorrelationId()).toBe("outer");
    });
  });
});

describe("currentOrNewCorrelationId", () => {
  it("is the current context's ID inside one and a fresh ID outside", () => {
    expect(withCorrelation("req-1", () => currentOrNewCorrelationId())).toBe("req-1");
    const outside = [currentOrNewCorrelationId(), currentOrNewCorrelationId()];
    expect(outside.every((id) => isValidCorrelationId(id))).toBe(true);
    expect(outside[0]).not.toBe(outside[1]);
  });
});

describe("bindContext", () => {
  it("adds fields that later code in the same context sees", async () => {
    await withCorrelation("req-1", async () => {
      bindContext({ user_id: "u1", org_id: "o1" });
      await sleep(1);
      expect(currentContext()).toEqual({ correlation_id: "req-1", user_id: "u1", org_id: "o1" });
    });
  });

  it("adds fields only to the current context, not to a concurrent one", async () => {
    let otherContext: unknown;
    await Promise.all([
      withCorrelation("req-a", async () => {
        bindContext({ user_id: "a" });
        await sleep(5);
      }),
      withCorrelation("req-b", async () => {
        await sleep(10);
        otherContext = currentContext();
      }),
    ]);
    expect(otherContext).toEqual({ correlation_id: "req-b" });
  });

  it("does not change the context a nested one came from", () => {
    withCorrelation("outer", () => {
      withCorrelation("inner", () => bindContext({ task_id: "t1" }));
      expect(currentContext()).toEqual({ correlation_id: "outer" });
    });
  });

  it("cannot replace the correlation ID", () => {
    withCorrelation("req-1", () => {
      bindContext({ correlation_id: "evil" });
      expect(currentCorrelationId()).toBe("req-1");
    });
  });

  it("does nothing outside a context", () => {
    bindContext({ user_id: "u1" });
    expect(currentContext()).toBeUndefined();
  });
});

describe("isValidCorrelationId", () => {
  it.each([
    ["a UUID", "7c9e6679-7425-40de-944b-e07fc1f90ae7"],
    ["one character", "a"],
    ["128 characters", "a".repeat(MAX_CORRELATION_ID_LENGTH)],
    ["every allowed punctuation mark", "req.1_2:3@4/5+6=7-8"],
  ])("accepts %s", (_, value) => {
    expect(isValidCorrelationId(value)).toBe(true);
  });

  it.each([
    ["empty", ""],
    ["129 characters", "a".repeat(MAX_CORRELATION_ID_LENGTH + 1)],
    ["10 KB", "a".repeat(10_240)],
    ["CR/LF (header injection)", "abc\r\nSet-Cookie: x=1"],
    ["a trailing newline", "abc\n"],
    ["a double quote", 'abc"def'],
    ["a single quote", "abc'def"],
    ["a space", "abc def"],
    ["a tab", "abc\tdef"],
    ["a NUL byte", "abc\0"],
    ["non-ASCII letters", "café"],
    ["an emoji", "id-🙂"],
    ["HTML", "<script>"],
    ["a backslash", "a\\b"],
  ])("rejects %s", (_, value) => {
    expect(isValidCorrelationId(value)).toBe(false);
  });

  it("rejects a missing value", () => {
    expect(isValidCorrelationId(undefined)).toBe(false);
    expect(isValidCorrelationId(null)).toBe(false);
  });
});

describe("newCorrelationId", () => {
  it("makes a valid, fresh ID each time", () => {
    const ids = Array.from({ length: 100 }, newCorrelationId);
    expect(new Set(ids).size).toBe(100);
    for (const id of ids) expect(isValidCorrelationId(id)).toBe(true);
  });
});
