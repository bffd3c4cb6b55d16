/** How long and how hard each measurement runs (bench/run.ts sets them from its flags). */
export interface BenchSettings {
  /** Seconds of load per measured run. */
  duration: number;
  /** Seconds of load per warm-up run. */
  warmUp: number;
  /** Measured runs per variant; the figures are their medians. */
  rounds: number;
  /** Open connections of the load generator. */
  connections: number;
  /** NODE_OPTIONS for the built services (to weigh a flag such as --max-semi-space-size). */
  nodeOptions?: string;
  /** Where servers write their logs for the length of the run. */
  scratch: string;
  progress: (line: string) => void;
}
