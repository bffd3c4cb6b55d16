import { describe, expect, it } from "vitest";
import { printable } from "./printable.js";

describe("printable", () => {
  it("leaves ordinary text, including non-ASCII letters, alone", () => {
    expect(printable("/api/v1/tasks?q=café")).toBe("/api/v1/tasks?q=café");
  });

  it("escapes terminal control sequences", () => {
    expect(printable("ok\u001b[2J\rgone")).toBe("ok\\u001b[2J\\u000dgone");
  });

  it("escapes characters that reorder or hide text", () => {
    expect(printable("abc\u202edcba\u200b")).toBe("abc\\u202edcba\\u200b");
  });
});
