import { createRequire } from "node:module";
import type * as Undici from "undici";

// undici's index loads all it has (fetch, WebSocket, EventSource, mocks, caches, proxies): about
// half a service's import time at start-up (bench/README.md). ward's clients use a pool, an
// agent and the retry interceptor, so those are loaded alone, from the same undici, and given
// the request API the index would have given every dispatcher.
const require = createRequire(import.meta.url);
const Dispatcher = require("undici/lib/dispatcher/dispatcher.js") as typeof Undici.Dispatcher;
Object.assign(Dispatcher.prototype, require("undici/lib/api/index.js"));

/** undici's `Pool`, without the rest of undici. */
export const Pool = require("undici/lib/dispatcher/pool.js") as typeof Undici.Pool;
/** undici's `Agent`, without the rest of undici. */
export const Agent = require("undici/lib/dispatcher/agent.js") as typeof Undici.Agent;
/** undici's retry interceptor, without the rest of undici. */
export const retryInterceptor =
  require("undici/lib/interceptor/retry.js") as typeof Undici.interceptors.retry;
