/**
 * The README's path into any cluster, read as the shell commands it is: the images it builds are the
 * images it installs, helm waits long enough for the migration hooks, and `helm test` comes after.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { findObject, renderChart } from "./chart.js";
import { repoRoot } from "./tools.js";

const readme = readFileSync(join(repoRoot, "README.md"), "utf8");
const section = readme.slice(readme.indexOf("Into any cluster"), readme.indexOf("## Layout"));
/** The shell block of that section, continuation lines joined, comments dropped. */
const commands = /```sh\n([\s\S]*?)```/
  .exec(section)![1]!
  .replace(/\\\n\s*/g, "")
  .split("\n")
  .map((line) => line.replace(/\s+#.*$/, "").trim())
  .filter((line) => line !== "" && !line.startsWith("#"));
const indexOf = (start: string) => commands.findIndex((line) => line.startsWith(start));
const install = commands[indexOf("helm install")] ?? "";
const setValue = (path: string) =>
  new RegExp(`--set ${path.replace(/\./g, "\\.")}="?([^"\\s]+)"?`).exec(install)?.[1];

describe("README: into any cluster", () => {
  it("pushes both images under the tag it then installs", () => {
    for (const service of ["gateway", "worker"]) {
      const image = `${setValue(`${service}.image.repository`)}:${setValue(`${service}.image.tag`)}`;
      const pushed = commands.some((line) => line.includes(`docker push "${image}"`));
      const built = commands.some((line) =>
        line.includes(`docker build -f services/${service}/Dockerfile -t "${image}"`),
      );
      expect({ built, pushed }, image).toEqual({ built: true, pushed: true });
    }
  });

  it("waits for the release, longer than a migration Job may run, before helm test", () => {
    expect(install).toMatch(/--wait\b/);
    const minutes = Number(/--timeout (\d+)m\b/.exec(install)?.[1]);
    const job = findObject(renderChart({ scenario: "default-values.yaml" }), "Job", "-gateway-migrate");
    expect(minutes * 60).toBeGreaterThanOrEqual(
      (job.spec as { activeDeadlineSeconds: number }).activeDeadlineSeconds,
    );
    expect(indexOf("helm test")).toBeGreaterThan(indexOf("helm install"));
  });

  it("ends with the request's trace read from the release's pods", () => {
    expect(commands.at(-1)).toMatch(/^pnpm trace try-ward-1 --kubectl -n ward --release ward$/);
  });
});
