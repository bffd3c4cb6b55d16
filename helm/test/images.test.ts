import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { renderScenario } from "./chart.js";
import { repoRoot } from "./tools.js";

const services = ["gateway", "worker"] as const;
const read = (path: string) => readFileSync(join(repoRoot, path), "utf8");
const dockerfile = (service: string) => read(`services/${service}/Dockerfile`);
/** The Dockerfile's instructions (continuation lines joined, comments dropped) of its last stage. */
const finalStage = (text: string) => {
  const lines = text.replace(/\\\n/g, " ").split("\n");
  const start = lines
    .map((line, index) => (/^FROM\s/i.test(line) ? index : -1))
    .filter((i) => i >= 0)
    .pop()!;
  return lines.slice(start).filter((line) => line.trim() !== "" && !line.trimStart().startsWith("#"));
};
const instruction = (lines: string[], name: string) =>
  lines
    .filter((line) => line.toUpperCase().startsWith(`${name} `))
    .map((line) => line.slice(name.length + 1).trim());

/** Every TypeScript file under a folder that ships: no tests, no test helpers or fixtures. */
function shippedSources(folder: string): string[] {
  return readdirSync(join(repoRoot, folder), { recursive: true, encoding: "utf8" })
    .filter(
      (path) =>
        path.endsWith(".ts") && !path.endsWith(".test.ts") && !/(^|\/)(testing|fixtures|test)\//.test(path),
    )
    .map((path) => join(folder, path));
}

/** The npm packages a source file imports at run time (type-only imports are erased by tsc). */
function runtimeImports(path: string): string[] {
  const source = read(path);
  const specifiers = [
    ...source.matchAll(/^\s*(?:import|export)\s+(?!type\s)[^;]*?\sfrom\s+"([^"]+)"/gm),
    ...source.matchAll(/^\s*import\s+"([^"]+)"/gm),
    ...source.matchAll(/\bimport\(\s*"([^"]+)"\s*\)/g),
  ].map((match) => match[1]!);
  return specifiers
    .filter((specifier) => !specifier.startsWith(".") && !specifier.startsWith("node:"))
    .map((specifier) =>
      specifier
        .split("/")
        .slice(0, specifier.startsWith("@") ? 2 : 1)
        .join("/"),
    );
}

describe.each(["shared", "services/gateway", "services/worker"])("the code %s ships", (folder) => {
  it("imports at run time only its production dependencies (pnpm deploy --prod leaves the rest out)", () => {
    const manifest = JSON.parse(read(`${folder}/package.json`)) as { dependencies?: Record<string, string> };
    const missing = shippedSources(`${folder}/src`).flatMap((path) =>
      runtimeImports(path)
        .filter((name) => manifest.dependencies?.[name] === undefined)
        .map((name) => `${path} imports ${name}`),
    );
    expect(missing).toEqual([]);
  });
});

describe.each(services)("the %s image", (service) => {
  const text = dockerfile(service);
  const stage = finalStage(text);

  it("builds on an exact, pinned Node.js release that package.json's engines accepts", () => {
    const base = /^ARG NODE_IMAGE=(\S+)$/m.exec(text)?.[1];
    expect(base).toMatch(/^node:\d+\.\d+\.\d+-bookworm-slim(@sha256:[a-f0-9]{64})?$/);
    for (const from of instruction(text.split("\n"), "FROM"))
      expect(from).toMatch(/^\$\{NODE_IMAGE\} AS \w+$/);
    const [major, minor] = /node:(\d+)\.(\d+)/.exec(base!)!.slice(1).map(Number);
    const engines = (JSON.parse(read("package.json")) as { engines: { node: string } }).engines.node;
    const [wantMajor, wantMinor] = />=(\d+)\.(\d+)/.exec(engines)!.slice(1).map(Number);
    expect(major! > wantMajor! || (major === wantMajor && minor! >= wantMinor!)).toBe(true);
  });

  it("fetches with pnpm from the lockfile and ships only production dependencies (pnpm deploy --prod)", () => {
    expect(text).toMatch(/^RUN .*pnpm fetch$/m);
    expect(text).toMatch(/pnpm install --offline --frozen-lockfile/);
    expect(text).toMatch(new RegExp(`pnpm --filter @ward/${service} deploy .*--prod`));
  });

  it("runs as a numeric, non-root user", () => {
    const users = instruction(stage, "USER");
    expect(users).toHaveLength(1);
    expect(users[0]).toMatch(/^[1-9]\d*:[1-9]\d*$/);
  });

  it("starts node itself in exec form, with Sentry preloaded: the package's start script", () => {
    const [command] = instruction(stage, "CMD");
    const start = (JSON.parse(read(`services/${service}/package.json`)) as { scripts: { start: string } })
      .scripts.start;
    expect(JSON.parse(command!)).toEqual(start.split(" "));
    expect(start).toBe("node --import ./dist/instrument.js dist/main.js");
    expect(instruction(stage, "ENTRYPOINT")).toEqual([]);
  });

  it("has a source file for every entry point the image and the chart run", () => {
    const tsconfig = JSON.parse(read(`services/${service}/tsconfig.json`)) as {
      compilerOptions: { rootDir: string; outDir: string };
    };
    expect(tsconfig.compilerOptions).toMatchObject({ rootDir: "src", outDir: "dist" });
    for (const entry of ["instrument", "main", "migrate"]) {
      expect(existsSync(join(repoRoot, `services/${service}/src/${entry}.ts`)), `src/${entry}.ts`).toBe(true);
    }
  });

  it("ships every run-time folder of the package beside dist/ (e.g. migrations/)", () => {
    const runtimeFolders = readdirSync(join(repoRoot, "services", service), { withFileTypes: true })
      // Hidden folders are local state (e.g. .node-compile-cache, made when the pod harness runs dist/), not code.
      .filter(
        (entry) =>
          entry.isDirectory() &&
          !entry.name.startsWith(".") &&
          !["src", "test", "dist", "node_modules"].includes(entry.name),
      )
      .map((entry) => entry.name);
    const ignore = read(`services/${service}/Dockerfile.dockerignore`);
    for (const folder of ["dist", ...runtimeFolders]) {
      expect(text).toContain(`COPY --from=build /src/services/${service}/${folder} ./${folder}\n`);
      if (folder !== "dist") expect(ignore).toContain(`!services/${service}/${folder}/\n`);
    }
  });

  it("keeps its build context to an allow-list without secrets, tests or node_modules", () => {
    const ignore = read(`services/${service}/Dockerfile.dockerignore`)
      .split("\n")
      .filter((line) => line.trim() !== "" && !line.startsWith("#"));
    expect(ignore[0]).toBe("*");
    expect(ignore).toEqual(expect.arrayContaining(["**/.env", "**/node_modules/", "**/*.test.ts"]));
    const allowed = ignore.filter((line) => line.startsWith("!")).map((line) => line.slice(1));
    expect(allowed.filter((path) => path.includes(services.find((s) => s !== service)!))).toEqual([]);
    const copied = /^COPY (?!--from)(.+) \.\/$/m.exec(text)![1]!.split(" ");
    expect(allowed).toEqual(expect.arrayContaining(copied));
  });

  it("is the other service's Dockerfile with only its name and port changed", () => {
    const other = services.find((s) => s !== service)!;
    const port = { gateway: "8080", worker: "8081" };
    expect(dockerfile(other).replaceAll(other, service).replaceAll(port[other], port[service])).toBe(text);
  });

  it("runs as the user the chart's pods run as", () => {
    const [user] = instruction(stage, "USER");
    const pods = renderScenario("default-values.yaml").filter((object) => object.kind === "Deployment");
    for (const pod of pods) {
      const context = (pod.spec as { template: { spec: { securityContext: Record<string, number> } } })
        .template.spec.securityContext;
      expect(`${context.runAsUser}:${context.runAsGroup}`).toBe(user);
    }
  });
});
