/**
 * Statistics and repetition for the benchmarks. On a shared, noisy machine a single timing says little:
 * every case is repeated, cases are interleaved round by round (so a burst of load elsewhere hits all of
 * them alike instead of one), and results are medians with p10/p90 and ratios against a baseline that
 * ran in the same rounds.
 */

export interface Stats {
  n: number;
  median: number;
  p10: number;
  p90: number;
  min: number;
  max: number;
}

/** Percentile with linear interpolation between the closest ranks (p in 0..100). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  const a = sorted[lo] as number;
  const b = sorted[hi] as number;
  return a + (b - a) * (rank - lo);
}

/** @example summarize([3, 1, 2]) // { n: 3, median: 2, p10: 1.2, p90: 2.8, min: 1, max: 3 } */
export function summarize(samples: readonly number[]): Stats {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    n: sorted.length,
    median: percentile(sorted, 50),
    p10: percentile(sorted, 10),
    p90: percentile(sorted, 90),
    min: sorted[0] ?? Number.NaN,
    max: sorted.at(-1) ?? Number.NaN,
  };
}

export interface Case {
  label: string;
  /** One sample: a number in the benchmark's unit (ms, orgs/s, µs per request…). */
  run(): Promise<number>;
}

/**
 * Runs every case once per round (in a rotating order): always `minRounds` rounds (default 1), then more
 * up to `rounds` while the next one would likely end within `budgetMs` (judged by the mean round so far).
 * Rounds are never cut short, so each case gets the same number of samples. Returns the samples per label.
 *
 * @example
 * const samples = await interleave([{ label: "a", run: timeA }, { label: "b", run: timeB }], { rounds: 5, budgetMs: 20_000 });
 */
export async function interleave(
  cases: readonly Case[],
  opts: { rounds: number; budgetMs: number; minRounds?: number },
): Promise<Map<string, number[]>> {
  const samples = new Map<string, number[]>(cases.map((c) => [c.label, []]));
  const started = performance.now();
  for (let round = 0; round < opts.rounds; round++) {
    const elapsed = performance.now() - started;
    if (round >= (opts.minRounds ?? 1) && elapsed + elapsed / round > opts.budgetMs) break;
    // Rotate the order each round, so no case always runs right after the same (maybe heavy) neighbour.
    for (let i = 0; i < cases.length; i++) {
      const c = cases[(round + i) % cases.length] as Case;
      samples.get(c.label)?.push(await c.run());
    }
  }
  return samples;
}
