/**
 * Cron arithmetic (Cloud Scheduler's dialect): syntax and time-zone checks, "does this daily job really
 * fire daily", and next run times. Cron is evaluated by cron-parser in the job's own time zone; nothing
 * here hand-parses cron values.
 *
 * Only the catalog's full check (jobs/index.ts: tests, README, provisioning) and the operators' tools load
 * this module: a job's start never steps a schedule (its schedule is static code, proven once).
 *
 * @example
 * cronProblem("0 0 * * *");                                     // null
 * nextRuns(quotaReset, new Date("2026-11-22T12:00:00Z"), 2);   // [2026-11-23T00:00Z, 2026-11-24T00:00Z]
 */
import { CronExpressionParser } from "cron-parser";
import type { AnyJob, Category } from "./job.ts";

let zones: Set<string> | undefined;

/** Why `zone` is not an IANA time zone Cloud Scheduler accepts, or null when it is. */
export function timeZoneProblem(zone: string): string | null {
  zones ??= new Set([...Intl.supportedValuesOf("timeZone"), "UTC", "Etc/UTC"]);
  return zones.has(zone) ? null : `"${zone}" is not an IANA time zone (e.g. "Etc/UTC", "Europe/Berlin")`;
}

const NAMES = /JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC|SUN|MON|TUE|WED|THU|FRI|SAT/gi;

/**
 * Why `cron` is not a schedule Cloud Scheduler accepts (unix-cron: five fields, no seconds, no macros,
 * none of the Quartz extensions L W # ? H), or null. Value ranges are checked by cron-parser.
 */
export function cronProblem(cron: string, timeZone = "Etc/UTC"): string | null {
  if (cron.trim() !== cron || /[^\x20-\x7e]/.test(cron))
    return `"${JSON.stringify(cron).slice(1, -1)}" has a control character or surrounding spaces; write the five fields separated by single spaces, e.g. "0 8 * * *"`;
  const text = cron.trim();
  if (text.startsWith("@"))
    return `"${cron}": macros like @daily are not accepted by Cloud Scheduler; write "0 0 * * *"`;
  const fields = text.split(/\s+/);
  if (fields.length !== 5) {
    return `"${cron}" has ${fields.length} fields; Cloud Scheduler wants 5 (minute hour day-of-month month day-of-week), no seconds`;
  }
  for (const field of fields) {
    if (!/^[0-9A-Za-z*,/-]+$/.test(field) || /[A-Za-z]/.test(field.replace(NAMES, ""))) {
      return `"${cron}": field "${field}" uses syntax Cloud Scheduler does not accept (only digits, names, * , - /)`;
    }
  }
  try {
    CronExpressionParser.parse(text, { tz: timeZone });
  } catch (error) {
    return `"${cron}": ${(error as Error).message}`;
  }
  return null;
}

/** One formatter per time zone: building an Intl.DateTimeFormat costs far more than using one. */
const dayFormats = new Map<string, Intl.DateTimeFormat>();

/** Calendar day (`YYYY-MM-DD`) of `date` in `timeZone`. */
function localDay(date: Date, timeZone: string): string {
  let format = dayFormats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat("en-CA", {
      timeZone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
    });
    dayFormats.set(timeZone, format);
  }
  return format.format(date);
}

/**
 * How often a schedule fires per calendar day and per calendar month (in its zone) between `from` and
 * `to`: `{ daysWithRuns, maxPerDay, monthsWithRuns, maxPerMonth }`. Counting stops after `maxFires`,
 * which is enough to prove a schedule too frequent.
 */
export function firingProfile(cron: string, timeZone: string, from: string, to: string, maxFires: number) {
  const days = new Map<string, number>();
  // Iterate from a day early to a day late, then keep only local days in [from, to): zone offsets
  // cannot cut the first or last day short.
  const start = new Date(Date.parse(`${from}T00:00:00Z`) - 86_400_000);
  const end = new Date(Date.parse(`${to}T00:00:00Z`) + 86_400_000);
  const it = CronExpressionParser.parse(cron, { tz: timeZone, currentDate: start, endDate: end });
  for (let fires = 0; it.hasNext() && fires < maxFires; fires++) {
    const day = localDay(it.next().toDate(), timeZone);
    if (day >= from && day < to) days.set(day, (days.get(day) ?? 0) + 1);
  }
  const months = new Map<string, number>();
  for (const [day, n] of days) months.set(day.slice(0, 7), (months.get(day.slice(0, 7)) ?? 0) + n);
  return {
    daysWithRuns: days.size,
    maxPerDay: Math.max(0, ...days.values()),
    monthsWithRuns: months.size,
    maxPerMonth: Math.max(0, ...months.values()),
  };
}

/**
 * Sample periods. Daily: March–April 2026 (61 days, including the US and EU spring DST changes, so a
 * schedule that a zone's DST change would double or drop is caught). Monthly: all of 2026.
 */
const DAILY_SAMPLE = { from: "2026-03-01", to: "2026-05-01", days: 61 };
const MONTHLY_SAMPLE = { from: "2026-01-01", to: "2027-01-01" };

/** Why a job's schedule disagrees with the folder it lives in, or null. */
export function folderProblem(job: Pick<AnyJob, "name" | "schedule">, category: Category): string | null {
  if (category === "manual") {
    return job.schedule
      ? `job "${job.name}": schedule: jobs in jobs/manual have no schedule; move it or remove the schedule`
      : null;
  }
  if (!job.schedule) return `job "${job.name}": schedule: jobs in jobs/${category} need a schedule`;
  const { cron, timeZone } = job.schedule;
  // An unusable cron or zone is the spec check's to report (specProblems); nothing to sample here.
  if (timeZoneProblem(timeZone) || cronProblem(cron, timeZone)) return null;
  // A schedule that does not parse is reported by the definition check; stepping it would only repeat that.
  if (timeZoneProblem(timeZone) || cronProblem(cron, timeZone)) return null;
  const daily = DAILY_SAMPLE;
  const p =
    category === "daily"
      ? firingProfile(cron, timeZone, daily.from, daily.to, daily.days + 4)
      : firingProfile(cron, timeZone, MONTHLY_SAMPLE.from, MONTHLY_SAMPLE.to, 16);
  const ok =
    category === "daily"
      ? p.daysWithRuns === daily.days && p.maxPerDay === 1
      : p.monthsWithRuns === 12 && p.maxPerMonth === 1;
  if (ok) return null;
  const want = category === "daily" ? "exactly once every day" : "exactly once every month";
  return `job "${job.name}": schedule.cron: "${cron}" (${timeZone}) is in jobs/${category} but does not fire ${want} (sampled: ${p.daysWithRuns} days with runs, up to ${p.maxPerDay} a day, ${p.monthsWithRuns} months, up to ${p.maxPerMonth} a month); move the job to the folder its cron matches, or change the cron`;
}

/** Next run times, self-consistent across DST transitions, and the DST check: see ./next-runs.ts. */
export {
  dstProblem,
  nextRuns,
  scheduleProblems,
  transitions,
  wallToInstant,
  zoneOffset,
} from "./next-runs.ts";
