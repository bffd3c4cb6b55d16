import module from "node:module";

/**
 * Turns on Node's module compile cache (Node ≥ 22.1; a no-op on older versions): the V8 code of
 * every module loaded afterwards is read from disk instead of compiled again, which takes about
 * a fifth off a service's start-up (figures: bench/README.md). The cache lives where
 * NODE_COMPILE_CACHE says (an image can ship it, read-only is fine), else in the system's temporary
 * folder. Call it before importing anything else: this module imports nothing.
 *
 * @example
 * // src/instrument.ts, the preloaded module: this first, then the rest by dynamic import()
 * import { enableCompileCache } from "@ward/shared/startup";
 * enableCompileCache();
 */
export function enableCompileCache(): void {
  (module as { enableCompileCache?: () => unknown }).enableCompileCache?.();
}

/**
 * Milliseconds since the process started, rounded: a start-up mark for the `server_listening`
 * line (`startup_ms`), which `pnpm bench` reads to show where start-up goes.
 *
 * @example
 * const imported = sinceProcessStart(); // first line after the imports of main.ts
 */
export function sinceProcessStart(): number {
  return Math.round(performance.now());
}
