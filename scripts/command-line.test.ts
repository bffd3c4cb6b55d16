import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const scripts = (
  JSON.parse(readFileSync(`${ROOT}package.json`, "utf8")) as { scripts: Record<string, string> }
).scripts;

/** Runs `pnpm <command> <args>` as package.json defines it, without pnpm's own output. */
function run(command: string, args: string[]) {
  const [program, ...rest] = scripts[command]!.split(" ");
  expect(program).toBe("node");
  return spawnSync(process.execPath, [...rest, ...args], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
}

describe.each(["bench", "trace", "token", "demo", "migrate", "dev"])("pnpm %s", (command) => {
  it("prints its usage on --help and exits 0, doing nothing else", () => {
    const result = run(command, ["--help"]);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`^usage: pnpm ${command}\\b`));
    expect(result.stderr).toBe("");
  });

  it("answers an unknown flag with one line naming it, and exits 2", () => {
    const result = run(command, ["--no-such-flag"]);
    expect(result.status).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr.trimEnd().split("\n")).toEqual([
      `${command}: Unknown option '--no-such-flag' (pnpm ${command} --help shows the usage)`,
    ]);
  });
});
