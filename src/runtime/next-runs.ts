/**
 * Fire times of a cron schedule in a time zone, defined so that they never contradict themselves, and
 * the check that a schedule stays clear of daylight-saving transitions.
 *
 * A schedule names local wall times ("01:30 every day"). Each matching wall time maps to ONE instant,
 * whatever instant the question is asked from: a wall time in a skipped hour (spring forward) fires at
 * the same distance after the transition (02:30 → 03:30), a wall time in a repeated hour (fall back)
 * fires at its first occurrence — the rule JavaScript's Temporal calls "compatible". So the run after
 * any instant is the one reached by stepping from any earlier instant.
 *
 * Cloud Scheduler documents only "anomalies" for times in those hours and recommends UTC, so the catalog
 * refuses such schedules (`dstProblem`); the mapping above only keeps `nextRuns` consistent for the rest.
 *
 * @example
 * nextRuns({ schedule: { cron: "30 1 * * *", timeZone: "Europe/Berlin" } }, new Date("2026-03-28T12:00:00Z"), 2);
 * dstProblem({ cron: "30 2 * * *", timeZone: "America/New_York" }); // "… falls in the skipped hour …"
 */
import { CronExpressionParser } from "cron-parser";
import type { Schedule } from "./job.ts";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const formatters = new Map<string, Intl.DateTimeFormat>();

const offsets = new Map<string, number>();

/** Offset of `zone` from UTC at `instant`, in ms (east positive). Offsets change on whole minutes: memoised per minute. */
export function zoneOffset(instant: number, zone: string): number {
  const key = `${zone}|${Math.floor(instant / 60_000)}`;
  let offset = offsets.get(key);
  if (offset === undefined) {
    if (offsets.size > 100_000) offsets.clear();
    offset = computeOffset(Math.floor(instant / 60_000) * 60_000, zone);
    offsets.set(key, offset);
  }
  return offset;
}

function computeOffset(instant: number, zone: string): number {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
    formatters.set(zone, f);
  }
  const p = Object.fromEntries(f.formatToParts(instant).map((x) => [x.type, Number(x.value)]));
  const wall = Date.UTC(p.year ?? 0, (p.month ?? 1) - 1, p.day, p.hour, p.minute, p.second);
  return wall - Math.floor(instant / 1000) * 1000;
}

/** The instant of local wall time `wall` (encoded as if UTC): first occurrence when repeated, shifted past a gap. */
export function wallToInstant(wall: number, zone: string): number {
  const before = zoneOffset(wall - DAY, zone);
  const after = zoneOffset(wall + DAY, zone);
  const valid = [wall - before, wall - after].filter((t) => zoneOffset(t, zone) === wall - t);
  if (valid.length) return Math.min(...valid);
  return wall - before; // in a gap: the offset in force before it moves the time forward by the gap
}

interface Fields {
  minutes: number[];
  hours: number[];
  days: Set<number>;
  months: Set<number>;
  weekdays: Set<number>;
  anyDay: boolean;
  anyWeekday: boolean;
}
const parsed = new Map<string, Fields>();

/** The cron's fields, parsed once by cron-parser (its own stepping costs ~0.5 ms a step: too slow here). */
function fieldsOf(cron: string): Fields {
  let f = parsed.get(cron);
  if (!f) {
    const c = CronExpressionParser.parse(cron, { tz: "Etc/UTC" }).fields;
    f = {
      minutes: [...c.minute.values].map(Number).sort((a, b) => a - b),
      hours: [...c.hour.values].map(Number).sort((a, b) => a - b),
      days: new Set(c.dayOfMonth.values.map(Number)),
      months: new Set(c.month.values.map(Number)),
      weekdays: new Set(c.dayOfWeek.values.map((d) => Number(d) % 7)),
      anyDay: c.dayOfMonth.isWildcard,
      anyWeekday: c.dayOfWeek.isWildcard,
    };
    parsed.set(cron, f);
  }
  return f;
}

/** Cron's day rule: with both day fields restricted, either may match; otherwise the restricted one must. */
function dayMatches(f: Fields, day: Date): boolean {
  if (!f.months.has(day.getUTCMonth() + 1)) return false;
  const dom = f.days.has(day.getUTCDate());
  const dow = f.weekdays.has(day.getUTCDay());
  if (!f.anyDay && !f.anyWeekday) return dom || dow;
  return (f.anyDay || dom) && (f.anyWeekday || dow);
}

/** Matching wall times (encoded as UTC) strictly after `fromWall`, one at a time. */
function walls(cron: string, fromWall: number): () => number {
  const f = fieldsOf(cron);
  let day = Math.floor(fromWall / DAY) * DAY;
  const queue: number[] = [];
  return () => {
    for (let searched = 0; queue.length === 0; searched++, day += DAY) {
      if (searched > 8 * 366) throw new Error(`"${cron}" never fires within 8 years`);
      if (!dayMatches(f, new Date(day))) continue;
      for (const h of f.hours)
        for (const m of f.minutes) {
          const wall = day + h * HOUR + m * 60_000;
          if (wall > fromWall) queue.push(wall);
        }
    }
    return queue.shift() as number;
  };
}

/**
 * The next `n` run times of a scheduled job strictly after `from`, in its time zone; [] for manual jobs.
 * @example nextRuns(getJob("quota-monthly"), new Date("2026-11-22T00:00:00Z"), 1) // [2026-12-01T00:05:00Z]
 */
export function nextRuns(job: { schedule: Schedule | null | undefined }, from: Date, n: number): Date[] {
  if (!job.schedule || n <= 0) return [];
  const { cron, timeZone } = job.schedule;
  const t = from.getTime();
  // Wall times map to instants within a few hours of "wall - current offset": start early, stop late.
  const margin = 6 * HOUR;
  const next = walls(cron, t + zoneOffset(t, timeZone) - margin);
  const found: number[] = [];
  for (;;) {
    const wall = next();
    const instant = wallToInstant(wall, timeZone);
    if (instant > t) found.push(instant);
    const sorted = [...new Set(found)].sort((a, b) => a - b);
    const nth = sorted[n - 1];
    if (nth !== undefined && wall > nth + zoneOffset(nth, timeZone) + 2 * margin) {
      return sorted.slice(0, n).map((ms) => new Date(ms));
    }
  }
}

/** Transitions of `zone` in [from, to): the instant and the wall-time window skipped or repeated. */
export function transitions(zone: string, from: number, to: number) {
  const out: { at: number; kind: "skipped" | "repeated"; wallFrom: number; wallTo: number }[] = [];
  for (let t = from; t < to; t += 6 * HOUR) {
    const [a, b] = [zoneOffset(t, zone), zoneOffset(t + 6 * HOUR, zone)];
    if (a === b) continue;
    let [lo, hi] = [t, t + 6 * HOUR]; // offset a at lo, b at hi: find the minute it changes
    while (hi - lo > 60_000) {
      const mid = lo + Math.floor((hi - lo) / 120_000) * 60_000;
      if (zoneOffset(mid, zone) === a) lo = mid;
      else hi = mid;
    }
    // Local time jumps from hi+a to hi+b: forward (skipped) when b > a, back (repeated) otherwise.
    const [w1, w2] = [hi + a, hi + b];
    out.push({
      at: hi,
      kind: b > a ? "skipped" : "repeated",
      wallFrom: Math.min(w1, w2),
      wallTo: Math.max(w1, w2),
    });
  }
  return out;
}

/** Years sampled by `dstProblem`: zones change rules rarely, and a cron repeats its pattern yearly. */
const SAMPLE = { from: Date.UTC(2026, 0, 1), to: Date.UTC(2029, 0, 1) };

/**
 * Why a schedule's fire times can fall in a skipped or repeated local hour of its time zone (2026–2028),
 * naming the fix; null when they cannot. Cheap: a few cron steps per transition.
 */
export function dstProblem(schedule: Schedule): string | null {
  const { cron, timeZone } = schedule;
  for (const tr of transitions(timeZone, SAMPLE.from, SAMPLE.to)) {
    const next = walls(cron, tr.wallFrom - 1);
    const wall = next();
    if (wall >= tr.wallTo) continue;
    const local = new Date(wall).toISOString().slice(0, 16).replace("T", " ");
    const what = tr.kind === "skipped" ? "skipped (clocks go forward)" : "repeated (clocks go back)";
    return `"${cron}" (${timeZone}) fires at ${local} local time, in an hour that is ${what}: Cloud Scheduler runs such times irregularly (late, twice or not at all). Use timeZone "Etc/UTC", or move the time out of ${new Date(tr.wallFrom).toISOString().slice(11, 16)}–${new Date(tr.wallTo).toISOString().slice(11, 16)} local time`;
  }
  return null;
}

/** Every scheduled job's DST problem, as `job "name": schedule: …` lines (catalog test, provisioning). */
export function scheduleProblems(jobs: readonly { name: string; schedule: Schedule | null }[]): string[] {
  return jobs.flatMap((job) => {
    const problem = job.schedule ? dstProblem(job.schedule) : null;
    return problem ? [`job "${job.name}": schedule: ${problem}`] : [];
  });
}
