/**
 * The history grid as text that fits 80 columns: a word per day ("ok", "FAIL", "MISS", …) for up to 10
 * days, one character per day beyond that (up to 21 days in 80 columns); `*` marks a day whose shown run was
 * started by hand. A legend says what each mark means.
 *
 * @example
 * for (const line of renderHistory(history, target)) println(io.stdout, line);
 */
import type { DayCell, DayState, History } from "./history.ts";
import type { Target } from "./target.ts";

const WORD: Readonly<Record<DayState, string>> = {
  succeeded: "ok",
  failed: "FAIL",
  cancelled: "CANC",
  skipped: "skip",
  missed: "MISS",
  running: "run",
  none: "·",
};
const GLYPH: Readonly<Record<DayState, string>> = {
  succeeded: "o",
  failed: "F",
  cancelled: "C",
  skipped: "s",
  missed: "M",
  running: "R",
  none: "·",
};
/** Up to this many days get a word per cell (6 columns each). */
const WORD_DAYS = 10;

const cellText = (cell: DayCell, compact: boolean): string =>
  `${(compact ? GLYPH : WORD)[cell.state]}${cell.manual ? "*" : ""}`;

export function renderHistory(history: History, target: Target): string[] {
  const compact = history.days.length > WORD_DAYS;
  const width = compact ? 3 : 6;
  const nameWidth = Math.max(3, ...history.jobs.map((row) => row.job.length)) + 2;
  const label = (date: string) => (compact ? date.slice(8) : date.slice(5));
  const line = (first: string, cells: string[]) =>
    `${first.padEnd(nameWidth)}${cells.map((c) => c.padEnd(width)).join("")}`.trimEnd();
  const first = history.days[0] ?? "";
  const last = history.days.at(-1) ?? "";
  const out = [
    `${target.env.name}: runs per day, ${first} to ${last} (UTC, today on the right)`,
    "",
    line("job", history.days.map(label)),
    ...history.jobs.map((row) =>
      line(
        row.job,
        row.days.map((cell) => cellText(cell, compact)),
      ),
    ),
    "",
  ];
  out.push(
    ...(compact
      ? ["o ok, F failed, C cancelled, s skipped, M missed, R running, · nothing due;"]
      : [
          "ok succeeded, FAIL failed, CANC cancelled, skip skipped, MISS missed,",
          "run running, · nothing due;",
        ]),
    "* started by hand (run-job, release, console), not by the scheduler;",
    "a day with several runs shows the last (--json lists them all)",
  );
  if (history.unprovisioned.length)
    out.push(
      `not provisioned: ${history.unprovisioned.join(", ")} (./scripts/create-all-jobs.sh ${target.env.name})`,
    );
  if (!history.skipsKnown) out.push("logs unreadable: runs that skipped their work show as ok");
  return out;
}
