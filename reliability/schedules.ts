/**
 * Schedules, section (5) of RELIABILITY.md: a seeded property test of `nextRuns` — from any instant, the
 * next runs are increasing, stepping from a run gives the following runs, and any instant between two
 * runs (or any earlier instant, stepped forward) reaches the same next run. Half the instants are drawn
 * within hours of a DST transition, where a per-instant cron evaluation contradicts itself.
 */
import { nextRuns } from "../src/runtime/catalog.ts";
import { transitions } from "../src/runtime/schedule.ts";

/** A small seeded PRNG (mulberry32): the same seed draws the same instants, in CI and in the full run. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const YEAR = { from: Date.UTC(2026, 0, 1), to: Date.UTC(2027, 0, 1) };
const iso = (ms: number) => new Date(ms).toISOString();

export interface ConsistencyResult {
  checks: number;
  instants: number;
  violations: string[];
}

/**
 * @example
 * checkNextRunsConsistency({ zones: ["Europe/Berlin"], crons: ["30 2 * * *"], samples: 100, seed: 1 }).violations // []
 */
export function checkNextRunsConsistency(opts: {
  zones: string[];
  crons: string[];
  samples: number;
  seed: number;
}): ConsistencyResult {
  const random = rng(opts.seed);
  const violations: string[] = [];
  let checks = 0;
  let instants = 0;
  const check = (ok: boolean, what: () => string) => {
    checks++;
    if (!ok && violations.length < 20) violations.push(what());
  };
  for (const timeZone of opts.zones) {
    const near = transitions(timeZone, YEAR.from, YEAR.to).map((t) => t.at);
    for (const cron of opts.crons) {
      const job = { schedule: { cron, timeZone } };
      const at = (t: number, n: number) => nextRuns(job, new Date(t), n).map((d) => d.getTime());
      for (let i = 0; i < opts.samples; i++) {
        const pivot = near.length && i % 2 === 0 ? (near[i % near.length] as number) : undefined;
        const t =
          pivot !== undefined
            ? pivot + Math.round((random() - 0.5) * 12 * 3_600_000)
            : YEAR.from + Math.round(random() * (YEAR.to - YEAR.from));
        instants++;
        const runs = at(t, 3);
        const [first, second, third] = runs as [number, number, number];
        const name = `${cron} (${timeZone}) from ${iso(t)}`;
        check(
          runs.length === 3 && first > t && first < second && second < third,
          () => `${name}: not increasing after from: ${runs.map(iso)}`,
        );
        const stepped = at(first, 2);
        check(
          stepped[0] === second && stepped[1] === third,
          () =>
            `${name}: stepping from ${iso(first)} gives ${stepped.map(iso)}, not ${[second, third].map(iso)}`,
        );
        const inside = t + Math.floor(random() * (first - t));
        check(
          at(inside, 1)[0] === first,
          () => `${name}: from ${iso(inside)} (before ${iso(first)}) gives ${iso(at(inside, 1)[0] ?? 0)}`,
        );
        check(
          at(first - 1, 1)[0] === first,
          () => `${name}: from just before ${iso(first)} gives ${iso(at(first - 1, 1)[0] ?? 0)}`,
        );
        const earlier = t - Math.round(random() * 2 * 86_400_000);
        let walk = at(earlier, 1)[0] ?? Number.POSITIVE_INFINITY;
        while (walk <= t) walk = at(walk, 1)[0] ?? Number.POSITIVE_INFINITY;
        check(
          walk === first,
          () => `${name}: stepping from ${iso(earlier)} reaches ${iso(walk ?? 0)}, not ${iso(first)}`,
        );
      }
    }
  }
  return { checks, instants, violations };
}
