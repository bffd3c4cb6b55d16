/**
 * Starts Sentry's error reporting, preloaded before anything else (`node --import
 * ./dist/instrument.js dist/main.js`; "instrument" is Sentry's word for this file): under ESM,
 * Sentry must start before the modules it instruments are imported. Does nothing, and loads
 * nothing, when SENTRY_DSN is unset. It first turns on Node's compile cache.
 */
import { enableCompileCache } from "@ward/shared/startup";
import { version } from "./version.js";

// First, so that every module loaded from here on (Sentry's SDK, main.js) comes from the cache.
enableCompileCache();
const { initSentryFromEnv } = await import("@ward/shared/errors");

await initSentryFromEnv({ service: "gateway", release: version });
