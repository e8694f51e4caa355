/**
 * The sandbox as a separate process for the benchmarks, so that the job under test and the API it calls
 * do not share one event loop (in production they are different machines). Started by
 * `startSandboxProcess()` (./sandbox-process.ts) with an IPC channel:
 *
 *   child → parent  { type: "ready", env }                       once the sandbox listens
 *   parent → child  { type: "counts", id }  → { type: "counts", id, counts }   admin API traffic so far
 *   parent → child  { type: "reset", id }   → { type: "reset", id }            zero the counters
 *   parent → child  { type: "faults", id, rules } → { type: "faults", id }      replace adminApi fault rules
 *
 * Counting happens where every request enters the admin API (the fault layer runs before the handler),
 * so a request answered by an injected fault or dropped by one is counted like any other.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { FaultRule } from "../../sandbox/faults.ts";
import { startSandbox } from "../../sandbox/index.ts";

export interface AdminApiCounts {
  /** Requests that reached the admin API (sync and list routes, faults included). */
  requests: number;
  /** Requests per answer: "200", "503", … and "dropped" (socket destroyed without an answer). */
  byOutcome: Record<string, number>;
  /** Sync requests (POST /api/v1/organizations/{slug}/sync) only. */
  syncRequests: number;
  /**
   * Orgs whose FIRST sync request got no 2xx (an injected 503, a dropped connection): with no retries, as
   * in the old scripts, each of these would have been a failed org.
   */
  firstAttemptFailed: number;
}

type Message =
  | { type: "counts"; id: number }
  | { type: "reset"; id: number }
  | { type: "faults"; id: number; rules: FaultRule[] };

const orgs = Number(process.env.BENCH_ORGS ?? "200");
const sandbox = await startSandbox({
  quiet: true,
  scheduler: { autoTick: false },
  orgs: { active: orgs, inactive: Math.ceil(orgs / 10) },
});

const empty = (): AdminApiCounts => ({ requests: 0, byOutcome: {}, syncRequests: 0, firstAttemptFailed: 0 });
let counts = empty();
/** Slugs whose first sync request has been seen since the last reset. */
let seen = new Set<string>();
const bump = (outcome: string) => {
  counts.byOutcome[outcome] = (counts.byOutcome[outcome] ?? 0) + 1;
};
// The fault layer looks `apply` up on this object for every request: wrapping it sees all traffic.
const apply = sandbox.faults.apply.bind(sandbox.faults);
sandbox.faults.apply = (service, req: IncomingMessage, res: ServerResponse) => {
  if (service === "adminApi") {
    counts.requests++;
    const slug =
      req.method === "POST" ? /\/organizations\/([^/]+)\/sync$/.exec(req.url ?? "")?.[1] : undefined;
    const first = slug !== undefined && !seen.has(slug);
    if (slug !== undefined) {
      counts.syncRequests++;
      seen.add(slug);
    }
    let finished = false;
    res.once("finish", () => {
      finished = true;
      bump(String(res.statusCode));
      if (first && (res.statusCode < 200 || res.statusCode >= 300)) counts.firstAttemptFailed++;
    });
    res.once("close", () => {
      if (finished) return;
      bump("dropped");
      if (first) counts.firstAttemptFailed++;
    });
  }
  return apply(service, req, res);
};

process.on("message", (raw) => {
  const msg = raw as Message;
  if (msg.type === "counts") process.send?.({ type: "counts", id: msg.id, counts });
  if (msg.type === "reset") {
    counts = empty();
    seen = new Set();
    process.send?.({ type: "reset", id: msg.id });
  }
  if (msg.type === "faults") {
    sandbox.faults.clear("adminApi");
    for (const rule of msg.rules) sandbox.faults.set("adminApi", rule);
    process.send?.({ type: "faults", id: msg.id });
  }
});
// The parent going away (even killed) closes the channel: stop with it, never linger.
process.on("disconnect", () => {
  void sandbox.stop().finally(() => process.exit(0));
});
process.send?.({ type: "ready", env: sandbox.env });
