/**
 * What a container image would bring to a pod, read from the sources that build it: skaffold.yaml names the
 * Dockerfile of each image, and the Dockerfile's final stage gives the working directory, the environment,
 * ENTRYPOINT and CMD. The built package folder on this machine stands in for the image's WORKDIR.
 */
import { existsSync, readFileSync } from "node:fs";
import { join, posix } from "node:path";
import { parseAllDocuments } from "yaml";
import { repoRoot } from "./tools.js";

/** An image, as the container runtime starts it. */
export interface ImageConfig {
  /** The repository, without tag or digest (e.g. `ward-gateway`). */
  repository: string;
  /** The Dockerfile it is built from, relative to the repository root. */
  dockerfile: string;
  /** The final stage's WORKDIR inside the image (e.g. `/app`). */
  workdir: string;
  /** The folder of this repository whose built files the image holds at WORKDIR (e.g. `services/gateway`). */
  folder: string;
  /** The final stage's ENV, in order. */
  env: Record<string, string>;
  /** Exec-form ENTRYPOINT and CMD ([] when absent). */
  entrypoint: string[];
  cmd: string[];
}

interface SkaffoldArtifact {
  image: string;
  context?: string;
  docker?: { dockerfile?: string };
}

/** `ward-gateway:0.1.0`, `registry:5000/ward-gateway@sha256:...` → the repository part. */
export function repositoryOf(image: string): string {
  const withoutDigest = image.split("@")[0]!;
  const lastSlash = withoutDigest.lastIndexOf("/");
  const colon = withoutDigest.lastIndexOf(":");
  return colon > lastSlash ? withoutDigest.slice(0, colon) : withoutDigest;
}

/**
 * The image a container names, as skaffold.yaml builds it.
 *
 * @example
 * const image = imageConfig("ward-gateway:0.1.0"); // { workdir: "/app", folder: "services/gateway", cmd: ["node", ...] }
 */
export function imageConfig(image: string): ImageConfig {
  const repository = repositoryOf(image);
  const artifacts = parseAllDocuments(readFileSync(join(repoRoot, "skaffold.yaml"), "utf8")).flatMap(
    (document) =>
      (document.toJS() as { build?: { artifacts?: SkaffoldArtifact[] } } | null)?.build?.artifacts ?? [],
  );
  const artifact = artifacts.find((candidate) => candidate.image === repository);
  if (!artifact) throw new Error(`skaffold.yaml builds no image ${repository} (container image ${image})`);
  const dockerfile = posix.join(artifact.context ?? ".", artifact.docker?.dockerfile ?? "Dockerfile");
  return { repository, dockerfile, ...readDockerfile(dockerfile) };
}

/** The final stage of a Dockerfile, and where its WORKDIR's files come from in the build context. */
function readDockerfile(dockerfile: string): Omit<ImageConfig, "repository" | "dockerfile"> {
  const stages = stagesOf(readFileSync(join(repoRoot, dockerfile), "utf8"));
  const final = stages.at(-1)!;
  const workdir = final.workdir ?? "/";
  const env: Record<string, string> = {};
  for (const args of final.instructions.filter(([name]) => name === "ENV").map(([, args]) => args)) {
    Object.assign(env, parseEnv(args));
  }
  const execForm = (name: string) => {
    const args = final.instructions.filter(([instruction]) => instruction === name).at(-1)?.[1];
    if (args === undefined) return [];
    if (!args.startsWith("[")) throw new Error(`${dockerfile}: ${name} is not in exec form`);
    return JSON.parse(args) as string[];
  };
  return {
    workdir,
    folder: folderBehind(stages, final, dockerfile),
    env,
    entrypoint: execForm("ENTRYPOINT"),
    cmd: execForm("CMD"),
  };
}

interface Stage {
  name?: string;
  workdir?: string;
  instructions: [string, string][];
}

function stagesOf(text: string): Stage[] {
  const lines = text
    .replace(/\\\n/g, " ")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"));
  const stages: Stage[] = [];
  for (const line of lines) {
    const [, name = "", args = ""] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    const instruction = name.toUpperCase();
    if (instruction === "FROM") {
      stages.push({ name: /\sAS\s+(\S+)$/i.exec(args)?.[1], instructions: [] });
      continue;
    }
    const stage = stages.at(-1);
    if (!stage) continue; // ARG before the first FROM
    if (instruction === "WORKDIR") stage.workdir = posix.resolve(stage.workdir ?? "/", args);
    stage.instructions.push([instruction, args]);
  }
  return stages;
}

/** `A=1 B="two words"` (or the legacy `A 1`). */
function parseEnv(args: string): Record<string, string> {
  if (!/^[^\s=]+=/.test(args)) {
    const [, key = "", value = ""] = /^(\S+)\s+(.*)$/.exec(args) ?? [];
    return { [key]: value };
  }
  const env: Record<string, string> = {};
  for (const match of args.matchAll(/([^\s=]+)=("(?:[^"\\]|\\.)*"|\S*)/g)) {
    const raw = match[2]!;
    env[match[1]!] = raw.startsWith('"') ? (JSON.parse(raw) as string) : raw;
  }
  return env;
}

/**
 * The folder of the build context whose `dist` the final stage copies to WORKDIR/dist, e.g.
 * `COPY --from=build /src/services/gateway/dist ./dist` with the build stage's WORKDIR /src holding the context.
 */
function folderBehind(stages: Stage[], final: Stage, dockerfile: string): string {
  for (const [instruction, args] of final.instructions) {
    const copy = /^--from=(\S+)\s+(\S+)\/dist\/?\s+(\S+)$/.exec(args);
    if (instruction !== "COPY" || !copy) continue;
    const [, from, source, target] = copy;
    if (posix.resolve(final.workdir ?? "/", target!) !== posix.join(final.workdir ?? "/", "dist")) continue;
    const build = stages.find((stage) => stage.name === from);
    const context = build?.workdir;
    if (!context || !source!.startsWith(`${context}/`)) continue;
    const folder = source!.slice(context.length + 1);
    if (!existsSync(join(repoRoot, folder)))
      throw new Error(`${dockerfile} copies ${folder}, which is missing`);
    return folder;
  }
  throw new Error(`${dockerfile}: found no COPY of a built dist/ into the final stage's WORKDIR`);
}
