/**
 * Starts Sentry's error reporting, preloaded before anything else (`node --import
 * ./dist/instrument.js dist/main.js`; "instrument" is Sentry's word for this file): under ESM,
 * Sentry must start before the modules it instruments are imported. Does nothing, and loads
 * nothing, when SENTRY_DSN is unset.
 */
import { initSentryFromEnv } from "@ward/shared/errors";
import { version } from "./version.js";

await initSentryFromEnv({ service: "worker", release: version });
