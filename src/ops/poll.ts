/**
 * How often `run-job` and `release` read an execution while waiting for it: fast at first (most executions
 * the tools wait on end within seconds), then backing off, and never faster than a share of Cloud Run's read
 * quota allows.
 *
 * The allowance is an assumption: we take the Cloud Run Admin API's read quota to be 1,000 requests per minute
 * per project and region (`getExecution`, `getJob`, the list calls and the console's own reads all draw on
 * it). Google's quota page (cloud.google.com/run/quotas) as we could read it lists the resource limits and
 * names the API rate limits without giving this figure, so it is not confirmed; a project's real value is on
 * its Quotas page (Cloud Run Admin API, read requests per minute per region). One waiting command keeps to a
 * quarter of it, 250 reads per minute, so several operators, `list-jobs` and the console can read at the same
 * time without a 429.
 *
 * @example
 * const pacer = createPacer();           // or createPacer(100): a fixed interval (tests, --poll-ms)
 * for (;;) { pacer.read(); …getExecution…; await sleep(pacer.delay()); }
 */

/** Cloud Run Admin API: read requests per minute per project and region (assumed default; see above). */
export const CLOUD_RUN_READS_PER_MINUTE = 1000;
/** The share one waiting command may use. */
export const READ_BUDGET_PER_MINUTE = CLOUD_RUN_READS_PER_MINUTE / 4;

/** Interval between reads by time spent waiting: 100 ms for 15 s, 500 ms to 1 min, 2 s to 10 min, then 5 s. */
export const POLL_SCHEDULE: readonly { untilMs: number; everyMs: number }[] = [
  { untilMs: 15_000, everyMs: 100 },
  { untilMs: 60_000, everyMs: 500 },
  { untilMs: 600_000, everyMs: 2_000 },
  { untilMs: Number.POSITIVE_INFINITY, everyMs: 5_000 },
];

export interface Pacer {
  /** Records one read (call it for every getExecution, re-reads included). */
  read(): void;
  /** How long to wait before the next read. */
  delay(): number;
}

/**
 * @param fixedMs a fixed interval instead of the schedule (tests); the read budget still applies.
 * @param now the clock (tests).
 */
export function createPacer(fixedMs?: number, now: () => number = Date.now): Pacer {
  const started = now();
  const reads: number[] = [];
  return {
    read() {
      reads.push(now());
    },
    delay() {
      const at = now();
      while (reads.length && (reads[0] as number) <= at - 60_000) reads.shift();
      const waited = at - started;
      const scheduled = fixedMs ?? POLL_SCHEDULE.find((step) => waited < step.untilMs)?.everyMs ?? 5_000;
      // Over budget: wait until the oldest read of the last minute leaves the window.
      const budget =
        reads.length >= READ_BUDGET_PER_MINUTE
          ? (reads[reads.length - READ_BUDGET_PER_MINUTE] as number) + 60_000 - at
          : 0;
      return Math.max(scheduled, budget);
    },
  };
}
