/**
 * What follows a SIGKILL in production for a job that runs at most once a day and that Cloud Run never
 * retries (alerts, quota-monthly: `oncePerDay`, `retries` 0): no task retry, the killed execution ends
 * failed, and the next attempt is a new execution of the same day (a second Scheduler delivery, or an
 * operator's run) whose guard reads the job's history. This serves that history in Cloud Run Admin API v2's
 * shape (CONTRACT §4): the killed execution (failed; succeeded if it finished before the kill) and the new
 * one, running.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

export interface NextDelivery {
  /** Environment that makes a run the new execution of the job (its guard reads the served history). */
  env: Record<string, string>;
  close(): Promise<void>;
}

/** @example const next = await nextDeliveryAfterKill("alerts", []); runInProcess(["alerts"], { ...env, ...next.env }) */
export async function nextDeliveryAfterKill(
  job: string,
  args: readonly string[],
  firstSucceeded = false,
): Promise<NextDelivery> {
  const cloudRunJob = `${job}-reliability`;
  const name = (short: string) =>
    `projects/sandbox-project/locations/us-central1/jobs/${cloudRunJob}/executions/${short}`;
  // Both executions on the same UTC day (the guard's day; both jobs' schedules are in Etc/UTC), also in
  // the minute after midnight: a killed run "yesterday" would rightly not block today's.
  const now = Date.now();
  const midnight = now - (now % 86_400_000);
  const before = (ms: number) => Math.max(midnight, now - ms);
  const iso = (ms: number) => new Date(ms).toISOString();
  const template = { containers: [{ args: [job, ...args] }] };
  const executions = [
    {
      name: name(`${job}-killed`),
      createTime: iso(before(60_000)),
      completionTime: iso(before(30_000)),
      taskCount: 1,
      succeededCount: firstSucceeded ? 1 : 0,
      failedCount: firstSucceeded ? 0 : 1,
      conditions: [{ type: "Completed", state: firstSucceeded ? "CONDITION_SUCCEEDED" : "CONDITION_FAILED" }],
      template,
    },
    {
      name: name(`${job}-next`),
      createTime: iso(Math.max(before(1_000), before(60_000) + 1)),
      taskCount: 1,
      runningCount: 1,
      template,
    },
  ];
  const server = createServer((req, res) => {
    req.resume();
    const body = JSON.stringify({ executions });
    res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    env: {
      CLOUD_RUN_API_URL: `http://127.0.0.1:${port}`,
      CLOUD_RUN_JOB: cloudRunJob,
      CLOUD_RUN_EXECUTION: `${job}-next`,
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
