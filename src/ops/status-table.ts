/**
 * list-jobs' table. By default it fits the terminal (80 columns where no width is known): job, schedule
 * (with the time zone only when it is not UTC, and the trigger's state only when it is not ENABLED), next
 * run and last run in UTC without the year, the last run's result as the history grid words it (ok, FAIL,
 * CANC, run), and the verdict. `--wide`, or a terminal wide enough, shows every column in full.
 *
 * @example
 * println(io.stdout, statusTable(rows, { wide: false, width: screenWidth(io) }));
 */
import { formatDuration } from "./execution.ts";
import type { ExecutionStatus } from "./execution-state.ts";
import { fitTable, textWidth } from "./screen.ts";
import { type Verdict, verdictLabel } from "./status.ts";

export interface StatusRow {
  job: string;
  category: string;
  schedule: { cron: string; timeZone: string } | null;
  trigger: string | null;
  nextRun: string | null;
  lastExecution: { result: ExecutionStatus | null; start: string | null; durationMs: number } | null;
  drift: string[];
  verdict: Verdict;
}

const RESULT: Readonly<Record<ExecutionStatus, string>> = {
  succeeded: "ok",
  failed: "FAIL",
  cancelled: "CANC",
  running: "run",
  detached: "?",
};
const UTC = new Set(["UTC", "Etc/UTC"]);
/** `2026-12-01T00:05:00Z` → `12-01 00:05`. */
const short = (iso: string | null) => (iso ? `${iso.slice(5, 10)} ${iso.slice(11, 16)}` : "—");

function wideTable(rows: readonly StatusRow[]): string {
  const head = ["job", "category", "schedule", "trigger", "next run", "last execution", "verdict"];
  const cells = rows.map((row) => {
    const last = row.lastExecution
      ? `${row.lastExecution.result} ${row.lastExecution.start ?? ""} (${formatDuration(row.lastExecution.durationMs)})`
      : "—";
    const schedule = row.schedule ? `${row.schedule.cron} (${row.schedule.timeZone})` : "manual";
    return [row.job, row.category, schedule, row.trigger ?? "—", row.nextRun ?? "—", last, label(row)];
  });
  return fitTable(head, cells, Number.POSITIVE_INFINITY);
}

const label = (row: StatusRow) => verdictLabel(row.verdict, row.drift);

function narrowTable(rows: readonly StatusRow[], width: number): string {
  const head = ["job", "schedule", "next (UTC)", "last run (UTC)", "verdict"];
  const cells = rows.map((row) => {
    const { schedule, trigger, lastExecution: last } = row;
    const zone = schedule && !UTC.has(schedule.timeZone) ? ` ${schedule.timeZone}` : "";
    const state = schedule && trigger !== "ENABLED" ? ` ${trigger ?? "MISSING"}` : "";
    const when = schedule ? `${schedule.cron}${zone}${state}` : "manual";
    const lastRun = last
      ? `${last.result ? RESULT[last.result] : "?"} ${short(last.start)} ${formatDuration(last.durationMs)}`
      : "—";
    return [row.job, when, short(row.nextRun), lastRun, label(row)];
  });
  return fitTable(head, cells, width);
}

/** The table as text: everything when `wide` or when everything fits `width`, else the narrow layout. */
export function statusTable(rows: readonly StatusRow[], opts: { wide: boolean; width: number }): string {
  const wide = wideTable(rows);
  return opts.wide || textWidth(wide) <= opts.width ? wide : narrowTable(rows, opts.width);
}
