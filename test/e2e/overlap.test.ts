import { ExecutionsClient, type protos } from "@google-cloud/run";
import { CloudSchedulerClient } from "@google-cloud/scheduler";
import { googleAuthLibrary } from "google-gax";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Sandbox, startSandbox } from "../../sandbox/index.ts";
import { cli } from "../ops/support.ts";

// DESIGN: a Scheduler attempt ends when Cloud Run accepts the run, so a slow execution can overlap the next
// tick. Jobs guard themselves: the newer execution sees the older one still running and skips, logged.
describe("overlapping scheduled runs", () => {
  let sandbox: Sandbox;
  const parent = "projects/sandbox-project/locations/us-central1";
  const local = (url: string) => {
    const { hostname, port } = new URL(url);
    const auth = new googleAuthLibrary.GoogleAuth({ authClient: new googleAuthLibrary.PassThroughClient() });
    return { apiEndpoint: hostname, port: Number(port), protocol: "http", fallback: true, auth } as const;
  };

  beforeAll(async () => {
    sandbox = await startSandbox({
      quiet: true,
      scheduler: { autoTick: false },
      orgs: { active: 3, inactive: 0 },
    });
    const applied = await cli(["create-all-jobs", "sandbox"], { env: sandbox.env });
    expect(applied.code).toBe(0);
  }, 120_000);
  afterAll(() => sandbox?.stop());

  it("a second tick while quota-reset still runs is skipped by the job (exit 0, logged) before it calls the API", async () => {
    // The reset takes 4 s at the API: long enough for a second delivery to start meanwhile.
    sandbox.faults.set("adminApi", { route: "POST /api/v1/quota/reset-daily", latencyMs: 4_000 });
    const scheduler = new CloudSchedulerClient(local(sandbox.urls.scheduler));
    const executions = new ExecutionsClient(local(sandbox.urls.cloudRun));
    const trigger = `${parent}/jobs/quota-reset-sandbox-trigger`;
    const job = `${parent}/jobs/quota-reset-sandbox`;

    await scheduler.runJob({ name: trigger });
    // Wait until the first execution's task is really running before the second delivery.
    for (let i = 0; i < 100; i++) {
      const [list] = await executions.listExecutions({ parent: job });
      if ((list[0]?.runningCount ?? 0) > 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await new Promise((r) => setTimeout(r, 1_500)); // the task has started its (slow) API call
    await scheduler.runJob({ name: trigger });

    let list: protos.google.cloud.run.v2.IExecution[] = [];
    for (let i = 0; i < 300; i++) {
      [list] = await executions.listExecutions({ parent: job });
      if (list.length === 2 && list.every((e) => e.completionTime)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(list).toHaveLength(2);
    const [older, newer] = [...list].sort(
      (a, b) =>
        Number(a.createTime?.seconds) - Number(b.createTime?.seconds) ||
        Number(a.createTime?.nanos) - Number(b.createTime?.nanos),
    );
    expect(older?.succeededCount).toBe(1);
    expect(newer?.succeededCount).toBe(1); // a clean skip is exit 0

    const entries = async (execution: string) => {
      const res = await fetch(`${sandbox.urls.cloudRun}/v2/entries:list`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          resourceNames: ["projects/sandbox-project"],
          filter: `resource.type="cloud_run_job" AND labels."run.googleapis.com/execution_name"="${execution}"`,
        }),
      });
      const body = (await res.json()) as { entries?: { jsonPayload?: Record<string, unknown> }[] };
      return (body.entries ?? []).map((e) => e.jsonPayload ?? {});
    };
    const short = (name?: string | null) => name?.split("/").pop() ?? "";
    const newerLogs = await entries(short(newer?.name));
    const summary = newerLogs.find((l) => l.status !== undefined);
    expect(summary?.status).toBe("skipped");
    expect(JSON.stringify(newerLogs)).toContain(short(older?.name));
    const olderLogs = await entries(short(older?.name));
    expect(olderLogs.find((l) => l.status !== undefined)?.status).toBe("succeeded");
    // Only the older execution reset anything: the newer one never reached the API.
    expect(JSON.stringify(olderLogs)).toContain("Daily quotas reset");
    expect(JSON.stringify(newerLogs)).not.toContain("Daily quotas reset");
    await Promise.all([scheduler.close(), executions.close()]);
  }, 120_000);
});
