/** With a data folder, the control plane survives a restart: jobs, executions and their logs, triggers, secrets. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type Sandbox, startSandbox } from "../../../sandbox/index.ts";
import { FIXTURE_ENTRY, jobBody, PARENT, runClients, schedulerClient, secretClient } from "./helpers.ts";

const dataDir = mkdtempSync(join(tmpdir(), "sandbox-data-"));
const start = () =>
  startSandbox({ data: false, dataDir, quiet: true, entry: FIXTURE_ENTRY, scheduler: { autoTick: false } });
let sandbox: Sandbox | undefined;

afterAll(async () => {
  await sandbox?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe("a persisted sandbox", () => {
  it("keeps jobs, executions, logs, scheduler jobs and secrets across a restart", async () => {
    sandbox = await start();
    let run = runClients(sandbox.urls.cloudRun);
    let scheduler = schedulerClient(sandbox.urls.scheduler);
    let secrets = secretClient(sandbox.urls.secretManager);
    const [op] = await run.jobs.createJob({
      parent: PARENT,
      jobId: "kept",
      job: jobBody(["--text", "remember me"]),
    });
    await op.promise();
    const [runOp] = await run.jobs.runJob({ name: `${PARENT}/jobs/kept` });
    const [execution] = await runOp.promise();
    await scheduler.createJob({
      parent: PARENT,
      job: {
        name: `${PARENT}/jobs/kept-trigger`,
        schedule: "0 1 * * *",
        httpTarget: { uri: "http://127.0.0.1:9/", httpMethod: "POST" },
      },
    });
    await secrets.createSecret({ parent: "projects/sandbox-project", secretId: "kept-secret", secret: {} });
    await secrets.addSecretVersion({
      parent: "projects/sandbox-project/secrets/kept-secret",
      payload: { data: Buffer.from("v1") },
    });
    await Promise.all([run.jobs.close(), run.executions.close(), scheduler.close(), secrets.close()]);
    await sandbox.stop();

    sandbox = await start();
    run = runClients(sandbox.urls.cloudRun);
    scheduler = schedulerClient(sandbox.urls.scheduler);
    secrets = secretClient(sandbox.urls.secretManager);
    try {
      const [job] = await run.jobs.getJob({ name: `${PARENT}/jobs/kept` });
      expect(job.latestCreatedExecution?.name).toBe(execution.name);
      const [again] = await run.executions.getExecution({ name: execution.name as string });
      expect(again.succeededCount).toBe(1);
      const page = await (await fetch(again.logUri as string)).text();
      expect(page).toContain("remember me");
      const [trigger] = await scheduler.getJob({ name: `${PARENT}/jobs/kept-trigger` });
      expect(trigger.schedule).toBe("0 1 * * *");
      const [version] = await secrets.accessSecretVersion({
        name: "projects/sandbox-project/secrets/kept-secret/versions/latest",
      });
      expect(version.payload?.data?.toString()).toBe("v1");
    } finally {
      await Promise.all([run.jobs.close(), run.executions.close(), scheduler.close(), secrets.close()]);
    }
  });
});
