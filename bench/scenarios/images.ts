import { createTestDatabase, testKeySpace } from "@ward/shared/testing";
import { findObject, hookObjects, renderChart } from "../../helm/test/chart.js";
import {
  buildImages,
  containersUnavailable,
  imageOf,
  podman,
  runContainerToCompletion,
  startContainer,
  stopContainer,
} from "../../helm/test/container-harness.js";
import { planPod, portNamed } from "../../helm/test/pod-harness.js";
import { harnessValues } from "../../helm/test/pod-journey.js";
import { median } from "../lib/compare.js";
import { waitForOk } from "../lib/processes.js";
import type { BenchSettings } from "./settings.js";

const SERVICES = ["gateway", "worker"] as const;
type Service = (typeof SERVICES)[number];
const NAMESPACE = "ward";

export type ImageFigures =
  | { unavailable: string }
  | {
      /** scripts/images/build.sh's lines: each image's build time (warm when its layers are cached) and size. */
      build: string[];
      /** The image's size as podman stores it (uncompressed), in MB. */
      sizeMb: Record<Service, number>;
      /** `podman run` of the chart's pod (default values) to `/readyz` 200, in ms, each run and the median. */
      startToReady: Record<Service, { runs: number[]; median: number }>;
      /** The same with the image's compile cache turned off (NODE_DISABLE_COMPILE_CACHE=1): the baseline. */
      withoutCompileCache: Record<Service, { runs: number[]; median: number }>;
    };

/**
 * Both images, built by scripts/images/build.sh, and run as the chart's pods (the container harness of
 * helm/test): their size, and how long a container takes from `podman run` to Ready.
 */
export async function measureImages(settings: BenchSettings): Promise<ImageFigures> {
  const unavailable = await containersUnavailable();
  if (unavailable) return { unavailable };
  settings.progress("  building the images");
  const build = (await buildImages()).split("\n").filter((line) => / built in /.test(line));
  const sizeMb = {} as Record<Service, number>;
  for (const service of SERVICES) {
    const bytes = await podman(["image", "inspect", "--format", "{{.Size}}", imageOf(service)]);
    sizeMb[service] = Math.round(Number(bytes) / 1e6);
  }

  const db = await createTestDatabase();
  const keys = testKeySpace();
  try {
    const objects = renderChart({ scenario: "default-values.yaml", set: await harnessValues(db, keys) });
    for (const job of hookObjects(objects, "pre-install", "Job")) {
      const { code, logs } = await runContainerToCompletion(
        planPod(job, objects, NAMESPACE),
        objects,
        NAMESPACE,
      );
      if (code !== 0) throw new Error(`${job.metadata.name} exited ${code}\n${logs}`);
    }
    const startToReady = {} as Record<Service, { runs: number[]; median: number }>;
    const withoutCompileCache = {} as Record<Service, { runs: number[]; median: number }>;
    for (const service of SERVICES) {
      const timed: Record<"cached" | "uncached", number[]> = { cached: [], uncached: [] };
      // Alternated, so both see the same machine.
      for (let round = 0; round < settings.rounds; round++) {
        for (const variant of ["cached", "uncached"] as const) {
          const plan = planPod(findObject(objects, "Deployment", `-${service}`), objects, NAMESPACE);
          if (variant === "uncached") plan.env.NODE_DISABLE_COMPILE_CACHE = "1";
          const started = performance.now();
          const run = startContainer(plan, objects, NAMESPACE);
          try {
            const url = `http://127.0.0.1:${portNamed(plan.container, "http")}/readyz`;
            timed[variant].push(await waitForOk(url, started, 60_000));
            await stopContainer(run);
          } finally {
            await run.remove();
          }
        }
      }
      startToReady[service] = { runs: timed.cached, median: median(timed.cached) };
      withoutCompileCache[service] = { runs: timed.uncached, median: median(timed.uncached) };
      settings.progress(
        `  ${service}: podman run to Ready ${Math.round(median(timed.cached))} ms, without the compile cache ${Math.round(median(timed.uncached))} ms (medians)`,
      );
    }
    return { build, sizeMb, startToReady, withoutCompileCache };
  } finally {
    await keys.clean();
    await db.drop();
  }
}
