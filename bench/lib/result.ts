/** The shape every benchmark returns; ./report.ts turns a list of them into RESULTS.md and results.json. */
import { type Stats, summarize } from "./stats.ts";

export interface CaseResult {
  label: string;
  unit: string;
  stats: Stats;
  samples: number[];
  /** median(this) / median(baseline) from the same run; 1 for the baseline itself. */
  ratio: number;
  baseline: boolean;
}

export interface BenchResult {
  id: string;
  title: string;
  /** What one sample is and how to read the ratio, one sentence each. */
  measures: string;
  ratioMeans: string;
  cases: CaseResult[];
  /** Outcome tables (reliability): one object per row, same keys in every row. */
  rows?: Record<string, string | number>[];
  /** One line for the summary table where there are no ratios (outcome benchmarks). */
  headline?: string;
  notes: string[];
  durationMs: number;
}

/**
 * Turns samples into case results with ratios against the baseline's median.
 *
 * @example
 * const cases = toCases(samples, "concurrency 1", "orgs/s");
 */
export function toCases(samples: Map<string, number[]>, baselineLabel: string, unit: string): CaseResult[] {
  const base = samples.get(baselineLabel);
  if (!base)
    throw new Error(`baseline "${baselineLabel}" has no samples (labels: ${[...samples.keys()].join(", ")})`);
  const baseMedian = summarize(base).median;
  return [...samples].map(([label, s]) => {
    const stats = summarize(s);
    return {
      label,
      unit,
      stats,
      samples: s,
      ratio: stats.median / baseMedian,
      baseline: label === baselineLabel,
    };
  });
}
