/**
 * `list-jobs <env> --history [days]`: one row per job, one column per UTC day — succeeded, failed,
 * cancelled, skipped, missed (a cron slot of an enabled schedule passed with no run that day) or running;
 * a day whose shown run was started by hand (run-job, release, console) is marked. Answers "did every job
 * run every night this week" in one look; `--json` for scripts.
 *
 * @example
 * ./scripts/list-jobs.sh prod --history        # the last 7 days
 * ./scripts/list-jobs.sh prod --history 14 --json | jq '.jobs[] | select(any(.days[]; .state == "missed"))'
 */
import { nextRuns } from "../runtime/catalog.ts";
import { ConfigError } from "../runtime/errors.ts";
import type { AnyJob } from "../runtime/job.ts";
import { loadCatalog } from "./catalog.ts";
import { createClients } from "./clients.ts";
import { runJobName } from "./desired.ts";
import { toDate } from "./execution.ts";
import { renderHistory } from "./history-render.ts";
import { EXIT, type Io, printJson, println } from "./io.ts";
import { type Run, recentRuns } from "./runs.ts";
import { resolveTarget } from "./target.ts";

export const DAY_STATES = [
  "succeeded",
  "failed",
  "cancelled",
  "skipped",
  "missed",
  "running",
  "none",
] as const;
export type DayState = (typeof DAY_STATES)[number];

export interface DayCell {
  /** YYYY-MM-DD (UTC). */
  date: string;
  state: DayState;
  /** The run the cell shows was not started by the scheduler. */
  manual: boolean;
  runs: { execution: string; trigger: string; result: string; start: string | null }[];
}

export interface HistoryRow {
  job: string;
  schedule: string | null;
  days: DayCell[];
}

export interface History {
  environment: string;
  days: string[];
  jobs: HistoryRow[];
  unprovisioned: string[];
  skipsKnown: boolean;
}

const DAY_MS = 86_400_000;
/** A slot counts as missed once this long has passed with no run (scheduler fires, Cloud Run starts). */
export const MISSED_AFTER_MS = 10 * 60_000;
const MAX_DAYS = 31;

const dayOf = (date: Date): string => date.toISOString().slice(0, 10);

/** The slots of `job` in [from, to). */
function slotsIn(job: AnyJob, from: Date, to: Date): Date[] {
  if (!job.schedule) return [];
  return nextRuns(job, new Date(from.getTime() - 1), 3).filter((slot) => slot < to);
}

/**
 * The grid, as a pure function of what was read: `runs` newest first, `createdAt` when each job's Cloud
 * Run job was created (no slot before it is missed; null = not provisioned).
 */
export function buildHistory(input: {
  environment: string;
  catalog: readonly AnyJob[];
  runs: readonly Run[];
  days: number;
  now: Date;
  createdAt: ReadonlyMap<string, Date | null>;
  unprovisioned?: string[];
  skipsKnown?: boolean;
}): History {
  const today = Date.parse(`${dayOf(input.now)}T00:00:00Z`);
  const starts = Array.from(
    { length: input.days },
    (_, i) => new Date(today - (input.days - 1 - i) * DAY_MS),
  );
  const jobs = input.catalog.map((job): HistoryRow => {
    const mine = input.runs.filter((run) => run.job.name === job.name);
    const created = input.createdAt.get(job.name) ?? null;
    return {
      job: job.name,
      schedule: job.schedule ? `${job.schedule.cron} (${job.schedule.timeZone})` : null,
      days: starts.map((start): DayCell => {
        const end = new Date(start.getTime() + DAY_MS);
        const day = mine.filter((run) => {
          const at = run.start ?? run.created;
          return at !== null && at >= start && at < end;
        });
        const runs = day.map((run) => ({
          execution: run.name,
          trigger: run.trigger,
          result: run.result,
          start: (run.start ?? run.created)?.toISOString() ?? null,
        }));
        const cell = { date: dayOf(start), runs };
        const running = day.find((run) => run.result === "running");
        const shown = running ?? day[0];
        if (shown) {
          const state = shown.result === "detached" ? "running" : shown.result;
          return { ...cell, state, manual: shown.trigger !== "scheduler" };
        }
        const due = slotsIn(job, start, end).some(
          (slot) =>
            created !== null && slot >= created && slot.getTime() <= input.now.getTime() - MISSED_AFTER_MS,
        );
        return { ...cell, state: due ? "missed" : "none", manual: false };
      }),
    };
  });
  return {
    environment: input.environment,
    days: starts.map(dayOf),
    jobs,
    unprovisioned: input.unprovisioned ?? [],
    skipsKnown: input.skipsKnown ?? true,
  };
}

/** `--history [days]` and `--json` from list-jobs' arguments; the environment is the first positional. */
export function parseHistoryArgs(argv: readonly string[]): {
  env: string | undefined;
  days: number;
  json: boolean;
} {
  const rest: string[] = [];
  let days = 7;
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "--json") json = true;
    else if (arg === "--history" || arg.startsWith("--history=")) {
      const value = arg.includes("=")
        ? arg.slice("--history=".length)
        : /^\d+$/.test(argv[i + 1] ?? "")
          ? argv[++i]
          : undefined;
      if (value !== undefined) {
        days = /^\d+$/.test(value) ? Number(value) : Number.NaN;
        if (!(days >= 1 && days <= MAX_DAYS))
          throw new ConfigError(`--history takes a number of days from 1 to ${MAX_DAYS}; got "${value}"`);
      }
    } else if (arg.startsWith("-"))
      throw new ConfigError(
        `unknown option ${arg} with --history (usage: list-jobs <env> --history [days] [--json])`,
      );
    else rest.push(arg);
  }
  if (rest.length !== 1)
    throw new ConfigError("pass exactly one environment (usage: list-jobs <env> --history [days] [--json])");
  return { env: rest[0], days, json };
}

/** The command: read the runs of the period, build the grid, print it (or its JSON). */
export async function listHistory(argv: readonly string[], io: Io): Promise<number> {
  const args = parseHistoryArgs(argv);
  const target = await resolveTarget(args.env, io);
  const catalog = await loadCatalog(io);
  const clients = createClients(target);
  const now = io.now?.() ?? new Date();
  try {
    const since = new Date(Date.parse(`${dayOf(now)}T00:00:00Z`) - (args.days - 1) * DAY_MS);
    const recent = await recentRuns({ clients, target, catalog, since, now });
    const jobsClient = await clients.jobs();
    const createdAt = new Map<string, Date | null>();
    await Promise.all(
      catalog.map(async (job) => {
        if (recent.unprovisioned.includes(job.name)) return void createdAt.set(job.name, null);
        const [deployed] = await jobsClient.getJob({ name: runJobName(job, target) });
        createdAt.set(job.name, toDate(deployed.createTime));
      }),
    );
    const history = buildHistory({
      environment: target.env.name,
      catalog,
      runs: recent.runs,
      days: args.days,
      now,
      createdAt,
      unprovisioned: recent.unprovisioned,
      skipsKnown: recent.skipsKnown,
    });
    if (args.json) printJson(io, history);
    else for (const line of renderHistory(history, target)) println(io.stdout, line);
    return EXIT.ok;
  } finally {
    await clients.close();
  }
}
