/**
 * When each Google API request of an operator command started and ended, seen from the wire: one recording
 * proxy per emulated API (Cloud Run + Logging, Scheduler, Secret Manager, Monitoring) in front of the
 * sandbox, and the sandbox env rewritten to point at them. From the timeline, `dependentLevels` counts the
 * round trips a command really made one after another: the longest chain of requests where each starts only
 * after the previous one has ended. Requests sent together (a parallel wave) overlap and count once.
 *
 * With latency injected at the emulators (sandbox fault rules), every request lasts at least that long, so
 * "starts after the other ended" is unambiguous: the chain is the command's critical path in round trips.
 *
 * @example
 * const timeline = await startTimeline(sandbox.env);
 * await cli(["create-all-jobs", "sandbox"], { env: timeline.env });
 * dependentLevels(timeline.requests) // { levels: 2, operationWaits: 1, requests: 40 }
 */
import { createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface TimedRequest {
  /** The env variable of the API it went to (CLOUD_RUN_API_URL, …). */
  api: string;
  method: string;
  path: string;
  start: number;
  end: number;
}

/** The emulated Google APIs an operator command calls, by the env variable that points at each. */
export const GOOGLE_API_VARS = [
  "CLOUD_RUN_API_URL",
  "CLOUD_SCHEDULER_API_URL",
  "SECRET_MANAGER_API_URL",
  "MONITORING_API_URL",
] as const;

export interface Timeline {
  /** The sandbox env with each Google API behind its recording proxy. */
  env: Record<string, string>;
  requests: TimedRequest[];
  /** Forgets what was recorded. */
  reset(): void;
  close(): Promise<void>;
}

async function recordingProxy(api: string, upstream: string, requests: TimedRequest[]): Promise<Server> {
  const target = new URL(upstream);
  const server = createServer((req, res) => {
    const entry: TimedRequest = {
      api,
      method: req.method ?? "GET",
      path: (req.url ?? "").split("?")[0] ?? "",
      start: performance.now(),
      end: Number.NaN,
    };
    const forward = httpRequest(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    res.on("close", () => {
      entry.end = performance.now();
      requests.push(entry);
    });
    forward.on("error", () => res.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return server;
}

export async function startTimeline(env: Record<string, string | undefined>): Promise<Timeline> {
  const requests: TimedRequest[] = [];
  const servers: Server[] = [];
  const rewritten: Record<string, string> = Object.fromEntries(
    Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined),
  );
  for (const api of GOOGLE_API_VARS) {
    const upstream = env[api];
    if (!upstream) continue;
    const server = await recordingProxy(api, upstream, requests);
    servers.push(server);
    rewritten[api] = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }
  return {
    env: rewritten,
    requests,
    reset: () => {
      requests.length = 0;
    },
    close: async () => {
      for (const server of servers) {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    },
  };
}

/** A long-running operation's poll (`GET …/operations/…`): waiting on a write, not a new round trip. */
export const isOperationWait = (r: TimedRequest): boolean =>
  r.method === "GET" && r.path.includes("/operations/");

export interface Levels {
  /** Round trips in a row on the longest chain, operation polls not counted. */
  levels: number;
  /** Operation polls on that same chain. */
  operationWaits: number;
  requests: number;
  /** Most requests in flight at one moment. */
  peakInFlight: number;
  /** The chain, oldest first ("METHOD path"), for a failing assertion to show. */
  chain: string[];
}

/**
 * The longest chain of requests each starting after the previous one ended (`slackMs` absorbs the clock's
 * resolution). Operation polls lie on chains but add no level; they are counted apart.
 */
export function dependentLevels(requests: readonly TimedRequest[], slackMs = 1): Levels {
  const sorted = [...requests].sort((a, b) => a.start - b.start);
  const best = sorted.map(() => ({ levels: 0, waits: 0, previous: -1 }));
  sorted.forEach((r, i) => {
    let levels = 0;
    let waits = 0;
    let previous = -1;
    for (let j = 0; j < i; j++) {
      const before = sorted[j] as TimedRequest;
      const chain = best[j] as (typeof best)[number];
      const longer = chain.levels > levels || (chain.levels === levels && chain.waits > waits);
      if (before.end <= r.start + slackMs && longer) {
        ({ levels, waits } = chain);
        previous = j;
      }
    }
    const wait = isOperationWait(r);
    best[i] = { levels: levels + (wait ? 0 : 1), waits: waits + (wait ? 1 : 0), previous };
  });
  let last = -1;
  best.forEach((b, i) => {
    const top = best[last];
    if (!top || b.levels > top.levels || (b.levels === top.levels && b.waits > top.waits)) last = i;
  });
  const chain: string[] = [];
  for (let i = last; i >= 0; i = best[i]?.previous ?? -1) {
    const r = sorted[i] as TimedRequest;
    chain.unshift(`${r.method} ${r.path}`);
  }
  const edges = sorted.flatMap((r) => [
    { t: r.start, d: 1 },
    { t: r.end, d: -1 },
  ]);
  edges.sort((a, b) => a.t - b.t || a.d - b.d);
  let inFlight = 0;
  let peakInFlight = 0;
  for (const edge of edges) {
    inFlight += edge.d;
    peakInFlight = Math.max(peakInFlight, inFlight);
  }
  return {
    levels: best[last]?.levels ?? 0,
    operationWaits: best[last]?.waits ?? 0,
    requests: sorted.length,
    peakInFlight,
    chain,
  };
}
