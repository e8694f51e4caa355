/**
 * Alert policies derived from the catalog, per environment: the Cloud Monitoring `AlertPolicy` bodies
 * create-all-jobs deploys next to the jobs. Every condition is PromQL over Cloud Run's job metrics
 * (README "Alerts" says why each one is exact, and Monitoring's limits that decided it):
 *
 * - failed-run (one policy): an execution of any of the environment's jobs completed with `result="failed"`
 *   in the last 5 minutes — one incident per job while that holds;
 * - missed-run (one per scheduled job): evaluated once per slot, at slot + grace, true when no execution of
 *   the job completed in that grace (a run that failed counts as ran: it is failed-run's incident);
 * - overrun (one per job): an execution still running after the longest run Cloud Run allows plus slack.
 *
 * @example
 * const { policies, problems } = desiredPolicies(catalog, target, ["projects/p/notificationChannels/1"]);
 */
import type { protos } from "@google-cloud/monitoring";
import type { AnyJob } from "../../runtime/job.ts";
import { MANAGED_BY } from "../desired.ts";
import { normalizeTimeZone } from "../normalize.ts";
import type { Target } from "../target.ts";

export type AlertPolicy = protos.google.monitoring.v3.IAlertPolicy;
export type AlertKind = "failed-run" | "missed-run" | "overrun";

/** Cloud Run samples job metrics every 60 s and shows a point up to 180 s later. */
export const METRIC_DELAY_SECONDS = 240;
/** From the trigger's accepted `:run` to the first task running. */
export const START_SLACK_SECONDS = 120;
/** failed-run looks back this far; each failed execution is in it for 5 consecutive evaluations. */
export const FAILED_WINDOW = "5m";
const COMPLETED = "run_googleapis_com:job_completed_execution_count";
const RUNNING = "run_googleapis_com:job_running_executions";

/** The key a desired policy and a deployed one are matched by: its `alert` and `job` user labels. */
export const policyKey = (labels: Record<string, string> | null | undefined): string =>
  `${labels?.alert ?? "?"}/${labels?.job ?? "all"}`;

/** Longest time Cloud Run lets an execution take: every wave of tasks, each try up to the timeout. */
export function runBoundSeconds(job: AnyJob): number {
  const waves = Math.ceil(
    job.tasks / (job.parallelism > 0 ? Math.min(job.parallelism, job.tasks) : job.tasks),
  );
  return job.timeoutSeconds * (job.retries + 1) * waves;
}

/** Grace after a slot before it counts as missed: delivery (with Scheduler retries), start, run, metrics. */
export function graceMinutes(job: AnyJob): number {
  const trigger = job.trigger ?? { retryCount: 0, attemptDeadlineSeconds: 180 };
  const delivery = trigger.attemptDeadlineSeconds * (trigger.retryCount + 1);
  return Math.ceil((delivery + START_SLACK_SECONDS + runBoundSeconds(job) + METRIC_DELAY_SECONDS) / 60);
}

/** Overrun fires after the run bound plus start and metric slack. */
export const overrunMinutes = (job: AnyJob): number =>
  Math.ceil((runBoundSeconds(job) + START_SLACK_SECONDS + METRIC_DELAY_SECONDS) / 60);

const resource = (target: Target, job: AnyJob) => `${job.name}${target.env.resourceSuffix}`;
const selector = (extra: string) => `{monitored_resource="cloud_run_job",${extra}}`;

/**
 * The time functions that are true exactly at slot + grace, or the reason a schedule has no exact missed-run
 * condition: PromQL's time functions are UTC, and a slot must be one fixed minute of a day (or of a day of
 * the month up to the 28th, or of a weekday).
 */
export function checkTime(job: AnyJob, grace: number): { clauses: string[] } | { problem: string } {
  const schedule = job.schedule;
  if (!schedule) return { problem: `${job.name} has no schedule` };
  const why = (reason: string) => ({
    problem: `no exact missed-run alert for ${job.name} ("${schedule.cron}" ${schedule.timeZone}): ${reason}; change the schedule in jobs/, or deploy without alerts: --no-alerts`,
  });
  if (normalizeTimeZone(schedule.timeZone) !== "Etc/UTC")
    return why(
      "PromQL's time functions are UTC only, so a zone with daylight saving time has no fixed check time",
    );
  const [minute, hour, dom, month, dow] = schedule.cron.trim().split(/\s+/);
  const int = (field: string | undefined) => (field && /^\d+$/.test(field) ? Number(field) : null);
  const m = int(minute);
  const h = int(hour);
  if (m === null || h === null)
    return why("the minute and hour must be single numbers (one run a day at most)");
  if (month !== "*") return why("the month field must be *");
  const total = h * 60 + m + grace;
  const carry = Math.floor(total / 1440);
  const clauses = [`minute() == ${total % 60}`, `hour() == ${Math.floor(total / 60) % 24}`];
  const d = int(dom);
  const w = int(dow);
  if (dom !== "*" && (d === null || d + carry > 28))
    return why("the day of the month must be * or one day, 1–28 after the grace");
  if (dow !== "*" && (w === null || dom !== "*"))
    return why("the day of the week must be * or one day, with the day of the month *");
  if (d !== null) clauses.push(`day_of_month() == ${d + carry}`);
  if (w !== null) clauses.push(`day_of_week() == ${(w + carry) % 7}`);
  return { clauses };
}

function policy(
  target: Target,
  kind: AlertKind,
  job: AnyJob | null,
  text: { title: string; doc: string; query: string; duration?: number },
  channels: string[],
): AlertPolicy {
  const env = target.env.name;
  return {
    displayName: `[${env}] ${text.title}`,
    documentation: { content: text.doc, mimeType: "text/markdown" },
    userLabels: {
      "managed-by": MANAGED_BY,
      environment: env,
      alert: kind,
      job: job ? job.name : "all",
    },
    conditions: [
      {
        displayName: text.title,
        conditionPrometheusQueryLanguage: {
          query: text.query,
          duration: { seconds: (text.duration ?? 0) * 60 },
          evaluationInterval: { seconds: 60 },
        },
      },
    ],
    combiner: "OR",
    enabled: { value: true },
    severity: kind === "overrun" ? "WARNING" : "ERROR",
    notificationChannels: [...channels].sort(),
  };
}

export interface DesiredPolicies {
  policies: Map<string, AlertPolicy>;
  /** Schedules no condition can watch exactly: the plan cannot be applied with alerts. */
  problems: string[];
}

export function desiredPolicies(
  catalog: readonly AnyJob[],
  target: Target,
  channels: string[],
): DesiredPolicies {
  const env = target.env.name;
  const out: DesiredPolicies = { policies: new Map(), problems: [] };
  const add = (p: AlertPolicy) => out.policies.set(policyKey(p.userLabels as Record<string, string>), p);
  const names = catalog.map((job) => resource(target, job)).join("|");
  add(
    policy(
      target,
      "failed-run",
      null,
      {
        title: "a scheduler-jobs execution failed",
        doc: `An execution of a ${env} job ended failed (label job_name). Read its logs: \`./scripts/run-job.sh ${env} <job>\` shows how to re-run; \`./scripts/list-jobs.sh ${env}\` shows the verdicts.`,
        query: `sum by (job_name) (increase(${COMPLETED}${selector(`job_name=~"${names}",result="failed"`)}[${FAILED_WINDOW}])) > 0`,
      },
      channels,
    ),
  );
  for (const job of catalog) {
    const name = resource(target, job);
    if (job.schedule) {
      const grace = graceMinutes(job);
      const check = checkTime(job, grace);
      if ("problem" in check) out.problems.push(check.problem);
      else
        add(
          policy(
            target,
            "missed-run",
            job,
            {
              title: `${job.name} missed a run`,
              doc: `No execution of ${name} completed within ${grace} min of its slot (${job.schedule.cron}, ${job.schedule.timeZone}). Check the trigger (paused? its last attempt's status) with \`./scripts/list-jobs.sh ${env}\`; run it now with \`./scripts/run-job.sh ${env} ${job.name}\`.`,
              query: `(sum(increase(${COMPLETED}${selector(`job_name="${name}"`)}[${grace}m])) or on() vector(0)) < 1 and on() (${check.clauses.join(" and ")})`,
            },
            channels,
          ),
        );
    }
    const limit = overrunMinutes(job);
    add(
      policy(
        target,
        "overrun",
        job,
        {
          title: `${job.name} still running after ${limit} min`,
          doc: `An execution of ${name} has run longer than Cloud Run's own limit (timeout × tries × waves) plus slack: it is stuck starting or the limits changed outside the catalog. Cancel it from the console or \`gcloud run jobs executions cancel\`.`,
          query: `max by (job_name) (${RUNNING}${selector(`job_name="${name}"`)}) > 0`,
          duration: limit,
        },
        channels,
      ),
    );
  }
  return out;
}
