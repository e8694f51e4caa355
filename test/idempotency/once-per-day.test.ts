/**
 * alerts, the risky job, against the whole sandbox: the admin API does not de-duplicate (a second call
 * notifies every customer again), so the job's own safety is what is proven here. Scheduler deliveries
 * start real Cloud Run executions (the entrypoint as child processes); notifications are counted in the
 * warehouse through the BigQuery emulator.
 */
import { ExecutionsClient, JobsClient } from "@google-cloud/run";
import { CloudSchedulerClient } from "@google-cloud/scheduler";
import { googleAuthLibrary } from "google-gax";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Sandbox, startSandbox } from "../../sandbox/index.ts";
import { cli } from "../ops/support.ts";

const parent = "projects/sandbox-project/locations/us-central1";
const JOB = `${parent}/jobs/alerts-sandbox`;
const local = (url: string) => {
  const { hostname, port } = new URL(url);
  const auth = new googleAuthLibrary.GoogleAuth({ authClient: new googleAuthLibrary.PassThroughClient() });
  return { apiEndpoint: hostname, port: Number(port), protocol: "http", fallback: true, auth } as const;
};

describe("alerts runs at most once per day (Cloud Run execution history, no API replay)", () => {
  let sandbox: Sandbox;
  let scheduler: CloudSchedulerClient;
  let executions: ExecutionsClient;
  let jobs: JobsClient;

  beforeAll(async () => {
    sandbox = await startSandbox({
      quiet: true,
      scheduler: { autoTick: false },
      orgs: { active: 6, inactive: 0 },
    });
    expect((await cli(["create-all-jobs", "sandbox"], { env: sandbox.env })).code).toBe(0);
    scheduler = new CloudSchedulerClient(local(sandbox.urls.scheduler));
    executions = new ExecutionsClient(local(sandbox.urls.cloudRun));
    jobs = new JobsClient(local(sandbox.urls.cloudRun));
  }, 120_000);
  afterAll(async () => {
    await Promise.all([scheduler?.close(), executions?.close(), jobs?.close()]);
    await sandbox?.stop();
  });

  const notifications = async () => {
    const res = await fetch(`${sandbox.urls.bigquery}/bigquery/v2/projects/sandbox-project/queries`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        query: "SELECT COUNT(*) AS n FROM `sandbox-project.organizations.org_notifications_sent`",
        useLegacySql: false,
      }),
    });
    const body = (await res.json()) as { rows?: { f: { v: string }[] }[] };
    return Number(body.rows?.[0]?.f[0]?.v);
  };
  /**
   * One Scheduler delivery, waited for until its execution has finished. Found through the job's
   * latestCreatedExecution and read by name, so a fault on the executions LIST leaves the test's reads alone.
   */
  const deliver = async () => {
    const latest = async () => (await jobs.getJob({ name: JOB }))[0].latestCreatedExecution?.name ?? "";
    const before = await latest();
    await scheduler.runJob({ name: `${parent}/jobs/alerts-sandbox-trigger` });
    for (let i = 0; i < 600; i++) {
      const name = await latest();
      if (name && name !== before) {
        const [execution] = await executions.getExecution({ name });
        if (execution.completionTime) return execution;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error("alerts execution did not finish");
  };

  it("a second delivery the same day sends nothing and succeeds, naming the first execution", async () => {
    const first = await deliver();
    expect(first.succeededCount).toBe(1);
    const once = await notifications();
    expect(once).toBeGreaterThan(0); // the seed triggers some rules
    const second = await deliver();
    expect(second.succeededCount).toBe(1); // a clean skip
    expect(await notifications()).toBe(once);
  }, 120_000);

  it("a delivery while the executions list answers 503 fails closed and sends nothing", async () => {
    const once = await notifications();
    sandbox.faults.set("cloudRun", {
      route: "GET /v2/projects/sandbox-project/locations/us-central1/jobs/alerts-sandbox/executions",
      status: 503,
    });
    try {
      const run = await deliver();
      expect(run.failedCount).toBe(1);
      expect(run.retriedCount ?? 0).toBe(0); // maxRetries 0: no task retry repeats anything
    } finally {
      sandbox.faults.clear("cloudRun");
    }
    expect(await notifications()).toBe(once);
  }, 120_000);
});
