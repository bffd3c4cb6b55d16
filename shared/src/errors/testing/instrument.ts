// Preloaded with `node --import`, as a service's instrument.ts is.
import { initSentryFromEnv } from "../index.js";

await initSentryFromEnv({ service: "preloaded" });
