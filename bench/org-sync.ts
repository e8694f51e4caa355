/**
 * Benchmark 1: org-sync-all throughput (orgs/s), sequential (the old script's behaviour) against bounded
 * concurrency and against 2 and 4 Cloud Run tasks side by side. Run twice: against the sandbox's reference
 * admin API with an added latency per sync (the realistic case, server-bound), and against a latency-only
 * stub (the job's own ceiling).
 */

import { runOrgSync } from "./lib/org-sync-run.ts";
import { type BenchResult, toCases } from "./lib/result.ts";
import { interleave } from "./lib/stats.ts";

export const BASELINE = "concurrency 1 (sequential)";

export interface Variant {
  label: string;
  concurrency: number;
  tasks: number;
}

/** The matrix: concurrency per task and number of tasks. The first entry is the baseline. */
export const VARIANTS: readonly Variant[] = [
  { label: BASELINE, concurrency: 1, tasks: 1 },
  { label: "concurrency 8 (default)", concurrency: 8, tasks: 1 },
  { label: "concurrency 16", concurrency: 16, tasks: 1 },
  { label: "concurrency 32", concurrency: 32, tasks: 1 },
  { label: "2 tasks × concurrency 8", concurrency: 8, tasks: 2 },
  { label: "4 tasks × concurrency 8", concurrency: 8, tasks: 4 },
];

export interface OrgSyncBenchOptions {
  id: string;
  title: string;
  measures: string;
  env: Record<string, string>;
  /** Active orgs the API lists: every run must account for each of them, or the benchmark fails. */
  orgs: number;
  rounds: number;
  minRounds: number;
  budgetMs: number;
  /** Leave these variants out (by label) where they add time but no information. */
  skip?: string[];
  notes?: string[];
}

/**
 * @example
 * const result = await benchOrgSync({ id: "org-sync-reference", title, measures, env, orgs: 200, rounds: 3, budgetMs: 60_000 });
 */
export async function benchOrgSync(opts: OrgSyncBenchOptions): Promise<BenchResult> {
  const started = performance.now();
  const variants = VARIANTS.filter((v) => !opts.skip?.includes(v.label));
  const cases = variants.map((v) => ({
    label: v.label,
    run: async () => {
      const r = await runOrgSync({ env: opts.env, concurrency: v.concurrency, tasks: v.tasks });
      // A fast run that skipped or failed orgs is not a result: refuse it rather than report it.
      if (r.exitCodes.some((c) => c !== 0) || r.total !== opts.orgs || r.failed > 0) {
        throw new Error(
          `org-sync-all (${v.label}) did not sync all ${opts.orgs} orgs: exit codes ${r.exitCodes.join(",")}, ${r.total} handled, ${r.failed} failed`,
        );
      }
      return r.total / (r.ms / 1000);
    },
  }));
  const samples = await interleave(cases, opts);
  return {
    id: opts.id,
    title: opts.title,
    measures: opts.measures,
    ratioMeans: "speed-up: median orgs/s of the case ÷ median orgs/s of sequential (concurrency 1), same run",
    cases: toCases(samples, BASELINE, "orgs/s"),
    notes: opts.notes ?? [],
    durationMs: performance.now() - started,
  };
}
