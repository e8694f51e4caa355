/**
 * The alerting soak: the sandbox provisioned by `create-all-jobs sandbox` (jobs, triggers, alert policies),
 * its scheduler clock moved in 15-minute steps for `days` simulated days, every execution a real task process
 * (the fixture entry, which succeeds unless told `--exit 1`), and the Monitoring evaluator run after each step.
 * Faults are injected through the real APIs: a failure by giving the job's container `--exit 1` for one day,
 * a missed day by pausing its trigger for one day.
 *
 * `npm run soak:alerts` runs 60 days; test/sandbox/monitoring-soak.test.ts runs a few.
 *
 * @example
 * const result = await alertSoak({ days: 3, failures: [{ day: 1, job: "alerts" }] });
 * result.incidents // one failed-run incident for alerts-sandbox
 */
import { JobsClient } from "@google-cloud/run";
import { CloudSchedulerClient } from "@google-cloud/scheduler";
import { googleAuthLibrary } from "google-gax";
import { catalog } from "../../jobs/index.ts";
import { startSandbox } from "../../sandbox/index.ts";
import type { Incident } from "../../sandbox/monitoring/evaluator.ts";
import { graceMinutes } from "../../src/ops/alerting/policies.ts";
import { nextRuns } from "../../src/runtime/catalog.ts";
import { cli } from "../ops/support.ts";
import { FIXTURE_ENTRY } from "../sandbox/cloud/helpers.ts";

export interface Fault {
  day: number;
  job: string;
}
export interface SoakOptions {
  days: number;
  failures?: Fault[];
  missed?: Fault[];
  /** The first simulated day starts here (UTC midnight); the soak starts an hour before. */
  start?: Date;
  progress?: (line: string) => void;
}
export interface SoakResult {
  incidents: (Incident & { alert: string; job: string })[];
  executions: number;
  /** What should have happened and did not (empty = the soak passed). */
  problems: string[];
}

const STEP = 15 * 60_000;
const DAY = 86_400_000;
const PARENT = "projects/sandbox-project/locations/us-central1";
const options = (url: string) => ({
  apiEndpoint: "127.0.0.1",
  port: Number(new URL(url).port),
  protocol: "http",
  fallback: true as const,
  auth: new googleAuthLibrary.GoogleAuth({ authClient: new googleAuthLibrary.PassThroughClient() }),
});

/**
 * Days pass between two fault injections, and the client's idle keep-alive socket may be closed by then:
 * one retry on a connection reset (the call never reached the server).
 */
async function once<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (!String((error as Error).message).includes("ECONNRESET")) throw error;
    return call();
  }
}

export async function alertSoak(opts: SoakOptions): Promise<SoakResult> {
  const start = opts.start ?? new Date("2026-01-01T00:00:00Z");
  const began = Date.now();
  const sandbox = await startSandbox({
    data: false,
    quiet: true,
    entry: FIXTURE_ENTRY,
    graceMs: 1000,
    scheduler: { autoTick: false, start: new Date(start.getTime() - 3_600_000) },
  });
  const jobs = new JobsClient(options(sandbox.urls.cloudRun));
  const scheduler = new CloudSchedulerClient(options(sandbox.urls.scheduler));
  try {
    const applied = await cli(["create-all-jobs", "sandbox", "--yes"], { env: sandbox.env });
    if (applied.code !== 0) throw new Error(`create-all-jobs failed: ${applied.stderr}`);
    const setArgs = async (job: string, args: string[]) => {
      const [current] = await once(() => jobs.getJob({ name: `${PARENT}/jobs/${job}-sandbox` }));
      const container = current.template?.template?.containers?.[0];
      if (container) container.args = args;
      const [operation] = await once(() => jobs.updateJob({ job: current }));
      await operation.promise();
    };
    const trigger = (job: string) => `${PARENT}/jobs/${job}-sandbox-trigger`;
    const onDay = (faults: Fault[] | undefined, day: number) => (faults ?? []).filter((f) => f.day === day);
    let executions = 0;
    for (let day = 0; day <= opts.days; day++) {
      // At midnight, before the day's first slot: undo yesterday's faults, inject today's.
      for (const fault of onDay(opts.failures, day - 1)) await setArgs(fault.job, [fault.job]);
      for (const fault of onDay(opts.missed, day - 1))
        await once(() => scheduler.resumeJob({ name: trigger(fault.job) }));
      if (day === opts.days) break;
      for (const fault of onDay(opts.failures, day)) await setArgs(fault.job, ["--exit", "1"]);
      for (const fault of onDay(opts.missed, day))
        await once(() => scheduler.pauseJob({ name: trigger(fault.job) }));
      // Day d is (its midnight − 1 ms, the next midnight − 1 ms]: the next midnight's slot belongs to day d + 1.
      const end = start.getTime() + (day + 1) * DAY - 1;
      while (sandbox.clock.now().getTime() < end) {
        const step = Math.min(STEP, end - sandbox.clock.now().getTime());
        executions += (await sandbox.clock.advance(step)).length;
        const running = sandbox.cloudRun.executions.deps.executions.values().filter((e) => !e.completionTime);
        await Promise.all(running.map((e) => sandbox.cloudRun.executions.settled(e.name)));
        sandbox.monitoring.evaluator.evaluate();
      }
      opts.progress?.(
        `${((Date.now() - began) / 1000).toFixed(1)}s day ${day + 1}/${opts.days}: ${sandbox.monitoring.evaluator.incidents.length} incidents so far`,
      );
    }
    // A last day of evaluation past the end, so a fault on the last day has its grace to show.
    const last = sandbox.clock.now().getTime() + DAY;
    while (sandbox.clock.now().getTime() < last) {
      await sandbox.clock.advance(STEP);
      const running = sandbox.cloudRun.executions.deps.executions.values().filter((e) => !e.completionTime);
      await Promise.all(running.map((e) => sandbox.cloudRun.executions.settled(e.name)));
      sandbox.monitoring.evaluator.evaluate();
    }
    const listed = (await (
      await fetch(`${sandbox.urls.monitoring}/v3/projects/sandbox-project/alertPolicies`)
    ).json()) as { alertPolicies: { name: string; userLabels: Record<string, string> }[] };
    const labels = new Map(listed.alertPolicies.map((p) => [p.name, p.userLabels]));
    const incidents = sandbox.monitoring.evaluator.incidents.map((incident) => ({
      ...incident,
      alert: labels.get(incident.policy)?.alert ?? "?",
      job: incident.labels.job_name?.replace(/-sandbox$/, "") ?? labels.get(incident.policy)?.job ?? "?",
    }));
    return { incidents, executions, problems: check(incidents, opts, start) };
  } finally {
    await Promise.allSettled([jobs.close(), scheduler.close()]);
    await sandbox.stop();
  }
}

/** Exactly one incident per fault, of the right kind and job, opened within the job's grace of its slot. */
function check(incidents: SoakResult["incidents"], opts: SoakOptions, start: Date): string[] {
  const problems: string[] = [];
  const expected = [
    ...(opts.failures ?? []).map((f) => ({ ...f, alert: "failed-run" })),
    ...(opts.missed ?? []).map((f) => ({ ...f, alert: "missed-run" })),
  ];
  const unexplained = new Set(incidents);
  for (const fault of expected) {
    const job = catalog.find((j) => j.name === fault.job);
    const from = start.getTime() + fault.day * DAY;
    const mine = incidents.filter(
      (i) => i.alert === fault.alert && i.job === fault.job && Date.parse(i.openTime) >= from,
    );
    const first = mine[0];
    const graceMs = (job ? graceMinutes(job) : 0) * 60_000;
    if (mine.length !== 1 || !first) {
      problems.push(`${fault.alert} of ${fault.job} on day ${fault.day}: ${mine.length} incidents, want 1`);
      continue;
    }
    unexplained.delete(first);
    const slot = job ? (nextRuns(job, new Date(from - 1), 1)[0]?.getTime() ?? from) : from;
    const opened = Date.parse(first.openTime);
    if (opened < slot || opened > slot + graceMs)
      problems.push(
        `${fault.alert} of ${fault.job} on day ${fault.day}: opened ${first.openTime}, not within ${graceMs / 60_000} min of its slot ${new Date(slot).toISOString()}`,
      );
  }
  for (const incident of unexplained)
    problems.push(`unexpected incident: ${incident.alert} ${incident.job} at ${incident.openTime}`);
  return problems;
}
