import { spawn } from "node:child_process";
import type { Readable } from "node:stream";
import { text } from "node:stream/consumers";
import type { LogLine } from "./log-line.js";
import { linesOf, UnreadableSource } from "./read-journey.js";

/** Which release's pods to read, and through which kubectl context and namespace. */
export interface KubectlTarget {
  /** The helm release. Default: "ward", the name the README and skaffold.yaml install. */
  release?: string;
  /** Default: the context's namespace. */
  namespace?: string;
  /** Default: kubectl's current context. */
  context?: string;
}

/** What `readKubectlJourney` found, plus one note per container it could not read in full. */
export interface KubectlJourney {
  lines: LogLine[];
  notes: string[];
}

/** One log stream to read: a container's current run, or the run before its last restart. */
interface LogStream {
  pod: string;
  container: string;
  previous: boolean;
}

/** The parts of `kubectl get pods -o json` this module reads. */
interface PodList {
  items: {
    metadata: { name: string };
    spec: { containers: { name: string }[] };
    status?: {
      phase?: string;
      containerStatuses?: {
        name: string;
        restartCount?: number;
        state?: { waiting?: { reason?: string }; running?: object; terminated?: object };
        lastState?: { terminated?: object };
      }[];
    };
  }[];
}

/**
 * Reads one request's lines straight from the cluster: lists the release's gateway and worker pods,
 * reads every container's current logs and, where it restarted, its previous ones, and notes the
 * containers that have none yet (creating, pending, pulling) instead of stopping at them.
 *
 * @example
 * const { lines, notes } = await readKubectlJourney("try-ward-1", { namespace: "ward", release: "ward" });
 */
export async function readKubectlJourney(
  correlationId: string,
  target: KubectlTarget = {},
): Promise<KubectlJourney> {
  const release = target.release ?? "ward";
  const global = [
    ...(target.context ? ["--context", target.context] : []),
    ...(target.namespace ? ["--namespace", target.namespace] : []),
  ];
  const selector = `app.kubernetes.io/part-of=ward,app.kubernetes.io/instance=${release},app.kubernetes.io/component in (gateway,worker)`;
  const listed = await kubectl([...global, "get", "pods", "--selector", selector, "--output", "json"], text);
  if (listed.code !== 0) throw new UnreadableSource("kubectl get pods", firstLine(listed.stderr));
  const { streams, notes } = logStreams(podList(listed.result));
  if (streams.length === 0 && notes.length === 0) {
    const where =
      target.namespace === undefined ? "the context's namespace" : `namespace ${target.namespace}`;
    notes.push(`no gateway or worker pods of release ${release} in ${where}`);
  }

  const read = await Promise.all(
    streams.map(async (stream) => {
      const args = [...global, "logs", stream.pod, "--container", stream.container];
      if (stream.previous) args.push("--previous");
      const run = await kubectl(args, (stdout) => linesOf(correlationId, stdout, { pod: stream.pod }));
      const name = `${stream.pod}/${stream.container}${stream.previous ? " (previous)" : ""}`;
      const note = run.code === 0 ? undefined : `${name}: ${firstLine(run.stderr)}`;
      return { lines: run.result, note };
    }),
  );
  for (const { note } of read) if (note !== undefined) notes.push(note);
  return { lines: read.flatMap((stream) => stream.lines), notes };
}

function podList(json: string): PodList {
  try {
    const list = JSON.parse(json) as Partial<PodList> | null;
    if (Array.isArray(list?.items)) return list as PodList;
  } catch {
    // reported below
  }
  throw new UnreadableSource("kubectl get pods", "its answer is not a pod list");
}

/** Every readable log stream of the pods, and a note for each container that has no logs yet. */
function logStreams(pods: PodList): { streams: LogStream[]; notes: string[] } {
  const streams: LogStream[] = [];
  const notes: string[] = [];
  for (const { metadata, spec, status } of pods.items) {
    for (const { name } of spec.containers) {
      const state = status?.containerStatuses?.find((container) => container.name === name);
      const restarted = (state?.restartCount ?? 0) > 0 || state?.lastState?.terminated !== undefined;
      if (restarted) streams.push({ pod: metadata.name, container: name, previous: true });
      if (state?.state?.running || state?.state?.terminated) {
        streams.push({ pod: metadata.name, container: name, previous: false });
      } else if (!restarted) {
        const why = state?.state?.waiting?.reason ?? status?.phase ?? "not started";
        notes.push(`${metadata.name}/${name}: no logs yet (${why})`);
      }
    }
  }
  return { streams, notes };
}

interface KubectlRun<T> {
  code: number;
  stderr: string;
  result: T;
}

/** Runs kubectl from PATH, handing its stdout to `consume` as it streams. */
function kubectl<T>(args: string[], consume: (stdout: Readable) => Promise<T>): Promise<KubectlRun<T>> {
  return new Promise((resolve, reject) => {
    const child = spawn("kubectl", args, { stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    const consumed = consume(child.stdout);
    child.once("error", (error: NodeJS.ErrnoException) =>
      reject(new UnreadableSource("kubectl", error.code === "ENOENT" ? "not found on PATH" : error.message)),
    );
    child.once("close", (code) => {
      consumed.then((result) => resolve({ code: code ?? 1, stderr, result }), reject);
    });
  });
}

function firstLine(text: string): string {
  return text.trim().split("\n")[0] || "failed without a message";
}
