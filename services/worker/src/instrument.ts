// Preloaded with `node --import ./dist/instrument.js dist/main.js`: Sentry must be initialised
// before the app's modules load, or under ESM it instruments nothing. Off unless SENTRY_DSN is set.
import { initSentryFromEnv } from "@ward/shared/errors";
import { version } from "./version.js";

await initSentryFromEnv({ service: "worker", release: version });
