/**
 * The whole sandbox in-process: the environment it hands out, loopback only, and the end-to-end path
 * the issue asks for: a scheduler tick POSTs to the emulated `:run`, the execution runs the REAL job
 * entrypoint (src/main.ts quota-reset) against the reference admin API, and the database changes.
 */
import { connect } from "node:net";
import { networkInterfaces } from "node:os";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Sandbox, startSandbox } from "../../../sandbox/index.ts";
import { jobBody, PARENT, runClients, schedulerClient } from "./helpers.ts";

let sandbox: Sandbox;

beforeAll(async () => {
  sandbox = await startSandbox({
    quiet: true,
    orgs: { active: 4, inactive: 1 },
    scheduler: { autoTick: false },
  });
});
afterAll(async () => {
  await sandbox?.stop();
});

/** Whether a TCP connection to host:port is accepted. */
const accepts = (host: string, port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });

describe("the sandbox", () => {
  it("hands out exactly the variables AGENTS.md lists", () => {
    expect(Object.keys(sandbox.env).sort()).toEqual(
      [
        "ENVIRONMENT",
        "GCP_PROJECT_ID",
        "CLOUD_RUN_API_URL",
        "CLOUD_SCHEDULER_API_URL",
        "SECRET_MANAGER_API_URL",
        "MONITORING_API_URL",
        "BIGQUERY_API_URL",
        "SUPABASE_API_URL",
        "API_SERVICE_URL",
        "CA_ROOT_API_KEY",
        "SUPABASE_ACCESS_TOKEN",
        "SUPABASE_PROJECT_REF",
        "GCE_METADATA_HOST",
      ].sort(),
    );
    expect(sandbox.env).toMatchObject({
      ENVIRONMENT: "sandbox",
      GCP_PROJECT_ID: "sandbox-project",
      SUPABASE_PROJECT_REF: "sandboxprojectref000",
    });
  });

  it("listens on 127.0.0.1 only", async () => {
    const others = [
      "127.0.0.2",
      ...Object.values(networkInterfaces())
        .flat()
        .flatMap((i) => (i && i.family === "IPv4" && !i.internal ? [i.address] : [])),
    ];
    const urls = Object.values(sandbox.env).filter((v) => v.startsWith("http"));
    expect(urls).toHaveLength(Object.keys(sandbox.urls).length);
    for (const url of urls) {
      const { hostname, port } = new URL(url);
      expect(hostname).toBe("127.0.0.1");
      expect(await accepts("127.0.0.1", Number(port))).toBe(true);
      for (const host of others)
        expect(await accepts(host, Number(port)), `${url} reachable on ${host}`).toBe(false);
    }
  });

  it("a scheduler tick runs the real quota-reset job against the admin API and changes its database", async () => {
    const run = runClients(sandbox.urls.cloudRun);
    const scheduler = schedulerClient(sandbox.urls.scheduler);
    try {
      // As provisioning writes it: plain env for the endpoints, the key as a secretKeyRef.
      const plain = ["ENVIRONMENT", "GCP_PROJECT_ID", "API_SERVICE_URL"].map((name) => ({
        name,
        value: sandbox.env[name],
      }));
      const caKey = {
        name: "CA_ROOT_API_KEY",
        valueSource: { secretKeyRef: { secret: "ca-root-api-key-sandbox", version: "latest" } },
      };
      const body = jobBody(["quota-reset"], { env: [...plain, caKey], timeoutSeconds: 120 });
      const [op] = await run.jobs.createJob({ parent: PARENT, jobId: "quota-reset-sandbox", job: body });
      await op.promise();
      // As provisioning writes it for Google: the emulator takes run.googleapis.com targets itself.
      await scheduler.createJob({
        parent: PARENT,
        job: {
          name: `${PARENT}/jobs/quota-reset-sandbox`,
          schedule: "0 0 * * *",
          timeZone: "Etc/UTC",
          httpTarget: {
            uri: `https://run.googleapis.com/v2/${PARENT}/jobs/quota-reset-sandbox:run`,
            httpMethod: "POST",
            oauthToken: {
              serviceAccountEmail: "scheduler-jobs-invoker@sandbox-project.iam.gserviceaccount.com",
            },
          },
        },
      });
      const midnight = new Date(
        `${new Date(sandbox.clock.now().getTime() + 86_400_000).toISOString().slice(0, 10)}T00:00:00Z`,
      );
      const fired = await sandbox.clock.fireDue(midnight);
      expect(fired.map((f) => f.httpStatus)).toEqual([200]);
      const [job] = await run.jobs.getJob({ name: `${PARENT}/jobs/quota-reset-sandbox` });
      const execution = job.latestCreatedExecution?.name as string;
      expect(execution).toBeTruthy();
      await sandbox.cloudRun.executions.settled(execution);
      const [done] = await run.executions.getExecution({ name: execution });
      expect([done.succeededCount, done.failedCount]).toEqual([1, 0]);
      // The job already created today's quota rows: a second reset finds nothing to do.
      const again = await fetch(`${sandbox.env.API_SERVICE_URL}/api/v1/quota/reset-daily`, {
        method: "POST",
        headers: { "X-CA-Root-Key": sandbox.env.CA_ROOT_API_KEY as string },
      });
      expect(await again.json()).toMatchObject({ orgs_processed: 4, orgs_created: 0, orgs_skipped: 4 });
    } finally {
      await run.jobs.close();
      await run.executions.close();
      await scheduler.close();
    }
  }, 60_000);
});
