/**
 * Section (2): every job under four faults of its main service, each on a fresh copy of the same state.
 * A cell runs the job as Cloud Run would (the first attempt, then up to the job's `retries` more while
 * it exits non-zero), clears the fault, and compares the end state with a clean run's, table by table:
 * the same rows, none lost, none duplicated (notifications, quota rows, applied migrations), and counts
 * the org syncs the API received. Per-call timeouts are cut with HTTP_TIMEOUT_MS so that "latency past
 * the client timeout" takes a second, not ten minutes.
 */
import type { FaultRule } from "../sandbox/faults.ts";
import {
  compare,
  type EndState,
  endState,
  JOBS,
  requestCounts,
  retriesOf,
  runInProcess,
  stackFor,
  syncCalls,
  total,
  type WarehouseTemplate,
} from "./stack.ts";

/** The client timeout of the drill and the latency that overruns it. */
export const DRILL_TIMEOUT_MS = 600;
export const FAULTS: { name: string; rule: FaultRule }[] = [
  { name: "503 at 30 %", rule: { route: "*", status: 503, rate: 0.3 } },
  { name: "429 + Retry-After: 1", rule: { route: "*", status: 429, retryAfter: 1, rate: 0.3 } },
  { name: "dropped connection at 30 %", rule: { route: "*", drop: true, rate: 0.3 } },
  {
    name: `latency ${DRILL_TIMEOUT_MS * 2} ms > timeout ${DRILL_TIMEOUT_MS} ms, 30 %`,
    rule: { route: "*", latencyMs: DRILL_TIMEOUT_MS * 2, rate: 0.3 },
  },
];

export interface Cell {
  job: string;
  fault: string;
  exitCodes: number[];
  sameAsClean: boolean;
  differing: string[];
  duplicated: number;
  lost: number;
  kinds: ReturnType<typeof compare>["kinds"];
  syncCalls: number;
  cleanSyncCalls: number;
  requests: number;
}

/** One clean run per job: the end state every cell must reach. */
export async function cleanStates(template: WarehouseTemplate, jobs = JOBS) {
  const out = new Map<string, { state: EndState; syncs: number; requests: number }>();
  for (const j of jobs) {
    const stack = await stackFor(j.job, template);
    try {
      const { code, out: log } = await runInProcess([j.job, ...j.args], stack.env);
      if (code !== 0) throw new Error(`clean ${j.job} exited ${code}:\n${log}`);
      const counts = await requestCounts(stack.env);
      const requests = Object.values(counts[j.service] ?? {}).reduce((a, b) => a + b, 0);
      out.set(j.job, { state: await endState(stack), syncs: syncCalls(counts), requests });
    } finally {
      await stack.close();
    }
  }
  return out;
}

export async function faultMatrix(
  template: WarehouseTemplate,
  clean: Map<string, { state: EndState; syncs: number }>,
  opts: { jobs?: typeof JOBS; faults?: typeof FAULTS } = {},
): Promise<Cell[]> {
  const cells: Cell[] = [];
  for (const j of opts.jobs ?? JOBS) {
    for (const f of opts.faults ?? FAULTS) {
      const stack = await stackFor(j.job, template);
      try {
        // The sandbox spreads a 30 % rate deterministically (the 4th, 7th, 10th… request): the first request
        // of the run is faulted too, or a job making one call would never meet the fault.
        stack.faults.set(j.faults, { ...f.rule, route: "/*", rate: 1, count: 1 });
        stack.faults.set(j.faults, f.rule);
        const env = { ...stack.env, HTTP_TIMEOUT_MS: String(DRILL_TIMEOUT_MS) };
        const exitCodes: number[] = [];
        for (let attempt = 0; attempt <= retriesOf(j.job); attempt++) {
          const env2 = { ...env, CLOUD_RUN_TASK_ATTEMPT: String(attempt) };
          exitCodes.push((await runInProcess([j.job, ...j.args], env2)).code);
          if (exitCodes.at(-1) === 0) break;
        }
        stack.faults.clear();
        // A request the client gave up on may still be working on the server: let it land first.
        if (f.rule.latencyMs) await new Promise((r) => setTimeout(r, (f.rule.latencyMs ?? 0) + 200));
        const ref = clean.get(j.job);
        if (!ref) throw new Error(`no clean state for ${j.job}`);
        const counts = await requestCounts(stack.env);
        const diff = compare(ref.state, await endState(stack));
        cells.push({
          job: j.job,
          fault: f.name,
          exitCodes,
          sameAsClean: diff.same,
          differing: diff.differing,
          duplicated: diff.duplicated,
          lost: diff.lost,
          kinds: diff.kinds,
          syncCalls: syncCalls(counts),
          cleanSyncCalls: ref.syncs,
          requests: total(counts),
        });
      } finally {
        await stack.close();
      }
    }
  }
  return cells;
}
