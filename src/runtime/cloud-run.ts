/**
 * The Cloud Run adapter: what the runtime decides from this job's own execution history before run().
 *
 * Overlap: Cloud Scheduler's attempt ends when Cloud Run ACCEPTS a run, so a slow execution can still be
 * running at the next tick, and delivery is at-least-once. When an OLDER execution of the same job has
 * not completed, a scheduled job skips (exit 0; the older one keeps the work it has done) and a manual
 * job refuses (exit 1, naming the other execution: its operator should watch that one).
 *
 * Once per day (`oncePerDay`: alerts, quota-monthly): the admin API does not de-duplicate, so the job
 * does. The day a run is for is the day its execution was created (in the schedule's time zone; task
 * retries share it). A succeeded OLDER execution of the same job for that day whose arguments cover this
 * run's means the work is done: skip, naming it (a newer one that succeeded skipped because of this one).
 * A deliberate re-run (`run-job --rerun <label>`, which sets IDEMPOTENCY_SCOPE) is not checked. When the history cannot be read, such a job fails closed.
 */
import { type ExecutionInfo, type HistoryOptions, listOwnExecutions } from "./execution-history.ts";
import type { AnyJob } from "./job.ts";

export { CLOUD_RUN_API, METADATA_URL } from "./execution-history.ts";

export type GuardVerdict =
  | { action: "run"; reason: string }
  | { action: "skip" | "refuse"; reason: string; other: string }
  | { action: "fail"; reason: string };

export interface GuardOptions extends HistoryOptions {
  job: Pick<AnyJob, "name" | "ifRunning" | "oncePerDay" | "schedule">;
  /** This run's arguments after the job name (its flags). */
  args: readonly string[];
  now: () => Date;
}

/** YYYY-MM-DD of `date` in `timeZone`. */
export const dayIn = (date: Date, timeZone: string): string =>
  new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" }).format(
    date,
  );

/** A dry run has no side effect: it needs no once-per-day check and covers no other run. */
const isDryRun = (args: readonly string[]) => args.includes("--dry-run");

/** A past run covers this one when it ran for real with no flags (everything) or with the same flags. */
const covers = (past: string[] | null, mine: readonly string[]) => {
  if (past === null) return true; // arguments not shown: assume it did the work (the safe side)
  const flags = past.slice(1);
  return !isDryRun(flags) && (flags.length === 0 || flags.join("\u0000") === mine.join("\u0000"));
};

/**
 * @example
 * const verdict = await guardRun({ job, args: [], config, log, now: () => new Date() });
 * if (verdict.action === "skip") return; // exit 0, naming verdict.other
 */
export async function guardRun(options: GuardOptions): Promise<GuardVerdict> {
  const { job, config, log } = options;
  const { execution } = config.cloudRun;
  if (job.ifRunning === "run" && !job.oncePerDay) return { action: "run", reason: "no guard" };
  if (!config.cloudRun.job || !execution) {
    if (job.oncePerDay)
      log.info(
        `${job.name}: not a Cloud Run execution, so no execution history to check; a local run is deliberate`,
      );
    return { action: "run", reason: "not running as a Cloud Run execution" };
  }
  let executions: ExecutionInfo[];
  try {
    executions = await listOwnExecutions(options);
  } catch (error) {
    const cause = (error as Error).message;
    if (job.oncePerDay)
      return {
        action: "fail",
        reason: `cannot read the execution history of Cloud Run job ${config.cloudRun.job} (${cause}); ${job.name} runs at most once per day and cannot tell whether today's run already happened, so it did nothing. Check the job's executions (./scripts/list-jobs.sh <env>), then run it again (./scripts/run-job.sh <env> ${job.name}) once the Cloud Run API answers`,
      };
    log.warn(`Overlap check failed, running anyway (a failed check must not block every run): ${cause}`, {
      error,
      cloud_run_job: config.cloudRun.job,
    });
    return { action: "run", reason: "overlap check failed" };
  }
  const mine = executions.find((e) => e.name === execution);
  const myTime = mine?.createTime ?? options.now().toISOString();
  if (job.ifRunning !== "run") {
    const older = olderRunning(executions, execution, myTime);
    if (older) {
      const reason = `an older execution of ${config.cloudRun.job} (${older.name}, created ${older.createTime}) is still running`;
      return job.ifRunning === "skip"
        ? { action: "skip", reason, other: older.name }
        : {
            action: "refuse",
            other: older.name,
            reason: `${reason}; a second ${job.name} at the same time is refused: follow that execution (./scripts/list-jobs.sh <env>), or cancel it first`,
          };
    }
  }
  if (job.oncePerDay) return onceADay(options, executions, myTime);
  return { action: "run", reason: `no older execution of ${config.cloudRun.job} is running` };
}

function onceADay(options: GuardOptions, executions: ExecutionInfo[], myTime: string): GuardVerdict {
  const { job, config, args, log } = options;
  const timeZone = job.schedule?.timeZone ?? "Etc/UTC";
  const day = dayIn(new Date(myTime), timeZone);
  if (isDryRun(args)) return { action: "run", reason: "a dry run: no side effect to repeat" };
  if (config.idempotencyScope) {
    log.notice(
      `Deliberate re-run "${config.idempotencyScope}": not checking for an earlier successful run on ${day}`,
      { rerun: config.idempotencyScope, day },
    );
    return { action: "run", reason: "deliberate re-run" };
  }
  // Only an OLDER execution's success means the work is done. A newer one can only have succeeded while
  // this one existed by skipping because of it (it saw this one running): counting it would make both
  // skip, and the day's work would be done by no one (two deliveries at once, found by the reliability
  // run's concurrency section). The oldest execution of the day owns the work; newer ones defer to it.
  const me = config.cloudRun.execution ?? "";
  const earlierToday = (e: ExecutionInfo) =>
    e.name !== me &&
    e.createTime !== undefined &&
    isOlder(e.createTime, e.name, myTime, me) &&
    dayIn(new Date(e.createTime), timeZone) === day &&
    covers(e.args, args);
  const done = executions.find((e) => e.succeeded && earlierToday(e));
  if (!done) {
    // An earlier run of the day that ended without success may have reached the API before it failed
    // (killed after the API sent the notifications, or exit 3): running again could do it twice.
    const unclear = executions.find((e) => !e.running && !e.succeeded && earlierToday(e));
    if (unclear)
      return {
        action: "fail",
        reason: `execution ${unclear.name} of ${job.name} for ${day} (${timeZone}) ended without success and may have reached the API before it did (the API keeps no record of what it already did), so this run did nothing. Check it (./scripts/executions.sh <env> describe ${unclear.name}), then run it again on purpose: ./scripts/run-job.sh <env> ${job.name} --rerun <label>`,
      };
    return { action: "run", reason: `no execution of ${job.name} succeeded yet for ${day}` };
  }
  return {
    action: "skip",
    other: done.name,
    reason: `already done for ${day} (${timeZone}): execution ${done.name} succeeded; ${job.name} runs at most once per day. To run it again on purpose: ./scripts/run-job.sh <env> ${job.name} --rerun <label>`,
  };
}

/** Whether an execution was created before mine: by create time, an exact tie broken by name. */
function isOlder(createTime: string, name: string, myTime: string, me: string): boolean {
  const [t, mine] = [Date.parse(createTime), Date.parse(myTime)];
  return t < mine || (t === mine && name < me);
}

/** The oldest still-running execution created before mine. */
function olderRunning(executions: ExecutionInfo[], me: string, myTime: string): ExecutionInfo | undefined {
  return executions
    .filter((e) => e.name !== me && e.running && e.createTime)
    .filter((e) => isOlder(e.createTime as string, e.name, myTime, me))
    .sort((a, b) => Date.parse(a.createTime as string) - Date.parse(b.createTime as string))[0];
}
