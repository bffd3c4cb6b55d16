import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { envExample, envExamplePath } from "./env-example.js";

describe(".env.example", () => {
  it("is what scripts/env-example.ts prints from the settings definitions", () => {
    // On failure: node --conditions=source --import tsx scripts/env-example.ts --write
    expect(readFileSync(envExamplePath, "utf8")).toBe(envExample());
  });

  it("holds no secret value but obvious placeholders", () => {
    const assignments = envExample()
      .split("\n")
      .filter((line) => /^[A-Z_]+=./.test(line));
    for (const line of assignments) expect(line).toMatch(/^[A-Z_]+=change-me-/);
  });
});
