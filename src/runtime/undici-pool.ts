/**
 * undici's Pool and its request API, without the package's index. The index also loads fetch, WebSocket,
 * EventSource, the cache stores, the mocks and every proxy agent, none of which a job uses: importing it
 * was ~55 ms of a ~136 ms start (bench/RESULTS.md, start-up); Pool and the API are about half of that.
 * This does what the index does for them: the request methods are mixed into Dispatcher's prototype.
 * Types: ./undici-modules.d.ts (the package declares only its index).
 */

import api from "undici/lib/api/index.js";
import Dispatcher from "undici/lib/dispatcher/dispatcher.js";
import Pool from "undici/lib/dispatcher/pool.js";

Object.assign(Dispatcher.prototype, api);

export { Pool };
