/**
 * The demo's alerting part: one missed run and one failed run raise incidents in the sandbox's Monitoring,
 * the healthy jobs none.
 *
 * 1. pause quota-reset's trigger (a missed run to come);
 * 2. run quota-cleanup once with DAYS_TO_KEEP=0, which the job refuses: a failed execution;
 * 3. move the scheduler clock in 15-minute steps past quota-reset's next slot plus its grace, letting every
 *    other trigger fire and its execution finish, and the evaluator run after each step;
 * 4. print the incidents (the sandbox also serves them at GET /sandbox/incidents).
 *
 * @example
 * const { failed, missed, others } = await demoAlerts(sandbox, target, say);
 */

import { catalog } from "../jobs/index.ts";
import type { Sandbox } from "../sandbox/index.ts";
import { graceMinutes } from "../src/ops/alerting/policies.ts";
import { createClients, parentOf } from "../src/ops/clients.ts";
import type { Target } from "../src/ops/target.ts";
import { nextRuns } from "../src/runtime/catalog.ts";

const STEP = 15 * 60_000;

export async function demoAlerts(
  sandbox: Sandbox,
  target: Target,
  say: (text: string) => void,
  print: (text: string) => void = (text) => process.stdout.write(`${text}\n`),
) {
  const clients = createClients(target);
  const parent = parentOf(target);
  const settle = async () => {
    const running = sandbox.cloudRun.executions.deps.executions.values().filter((e) => !e.completionTime);
    await Promise.all(running.map((e) => sandbox.cloudRun.executions.settled(e.name)));
  };
  try {
    say("Alerts: pausing quota-reset's trigger, and running quota-cleanup with DAYS_TO_KEEP=0 (refused)…");
    await (await clients.scheduler()).pauseJob({ name: `${parent}/jobs/quota-reset-sandbox-trigger` });
    const [operation] = await (await clients.jobs()).runJob({
      name: `${parent}/jobs/quota-cleanup-sandbox`,
      overrides: { containerOverrides: [{ env: [{ name: "DAYS_TO_KEEP", value: "0" }] }] },
    });
    // The operation ends with the execution's error: that failure is the point here.
    await operation.promise().catch(() => {});
    await settle();
    sandbox.monitoring.evaluator.evaluate();
    const job = catalog.find((j) => j.name === "quota-reset");
    if (!job) throw new Error("quota-reset is not in the catalog");
    const slot = nextRuns(job, sandbox.clock.now(), 1)[0] as Date;
    const until = slot.getTime() + (graceMinutes(job) + 1) * 60_000;
    say(
      `Alerts: moving the scheduler clock to ${new Date(until).toISOString()} (quota-reset's slot ${slot.toISOString()} + ${graceMinutes(job)} min grace), every other trigger firing on the way…`,
    );
    while (sandbox.clock.now().getTime() < until) {
      await sandbox.clock.advance(Math.min(STEP, until - sandbox.clock.now().getTime()));
      await settle();
      sandbox.monitoring.evaluator.evaluate();
    }
    const incidents = sandbox.monitoring.evaluator.incidents;
    for (const incident of incidents)
      print(
        `  incident ${incident.openTime}  ${incident.policyDisplayName}${incident.labels.job_name ? ` (${incident.labels.job_name})` : ""}`,
      );
    const named = (text: string) => incidents.filter((i) => i.policyDisplayName.includes(text));
    const failed = named("execution failed").length;
    const missed = named("quota-reset missed a run").length;
    return { failed, missed, others: incidents.length - failed - missed };
  } finally {
    await clients.close();
  }
}
