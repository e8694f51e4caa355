/**
 * The tools against Google as it really behaves: transient failures on the reads a run depends on
 * (getExecution, listExecutions, Logging entries:list), execution documents whose completionTime runs ahead
 * of their counts, an undocumented list order, a Scheduler attempt refused by :run — and `list-jobs --check`
 * for monitors. Executions run a tiny stand-in container (no data services), so each takes well under a
 * second of CPU.
 */
import type { JobsClient } from "@google-cloud/run";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Sandbox, startSandbox } from "../../sandbox/index.ts";
import { jobsClient } from "../sandbox/cloud/helpers.ts";
import { cli, provisionSandbox } from "./support.ts";

/** The container: `<job>` sleeps (bootstrap longer), writes the runner's summary line, exits 0 (1 with FAIL=1). */
const CONTAINER = `
const job = process.argv[1];
const fail = process.env.FAIL === "1";
setTimeout(() => {
  console.log(JSON.stringify({ severity: fail ? "ERROR" : "INFO", message: job + (fail ? " failed" : " done"),
    status: fail ? "failed" : "succeeded", exit_code: fail ? 1 : 0 }));
  process.exit(fail ? 1 : 0);
}, job === "bootstrap" ? 2500 : 700);
`;

const parent = "projects/sandbox-project/locations/us-central1";
let sandbox: Sandbox;
let jobs: JobsClient;
/** No data services: the stand-in container never calls the admin API, whose URL is a placeholder. */
const env = (): Record<string, string> => ({ ...sandbox.env, API_SERVICE_URL: "http://127.0.0.1:9" });

beforeAll(async () => {
  sandbox = await startSandbox({
    quiet: true,
    data: false,
    scheduler: { autoTick: false },
    entry: [process.execPath, "-e", CONTAINER],
  });
  jobs = jobsClient(sandbox.env.CLOUD_RUN_API_URL as string);
  await provisionSandbox(env());
});

afterAll(async () => {
  await jobs?.close();
  await sandbox?.stop();
});

const executionsOf = async (job: string) => {
  const response = await fetch(`${env().CLOUD_RUN_API_URL}/v2/${parent}/jobs/${job}-sandbox/executions`);
  return ((await response.json()) as { executions?: { name: string }[] }).executions ?? [];
};

describe("list-jobs --check", () => {
  it("exits 0 while nothing needs attention", async () => {
    const result = await cli(["list-jobs", "sandbox", "--check"], { env: env() });
    expect(result.stdout).toContain("check: every job is OK, running or not yet due");
    expect(result.code).toBe(0);
  });
});

describe("transient Google failures", () => {
  it("run-job reports the execution's true result through 503s and resets on getExecution and entries:list", async () => {
    const executions = `GET /v2/${parent}/jobs/stale-cleanup-sandbox/executions/*`;
    sandbox.faults.set("cloudRun", { route: executions, status: 503, count: 2 });
    sandbox.faults.set("cloudRun", { route: `GET /v2/${parent}/jobs/*`, drop: true, count: 1 });
    sandbox.faults.set("cloudRun", { route: "POST /v2/entries:list", status: 503, count: 2 });
    try {
      const result = await cli(["run-job", "sandbox", "stale-cleanup"], { env: env() });
      expect(result.stderr).not.toMatch(/^error:/m);
      expect(result.stdout).toMatch(/^stale-cleanup-sandbox-\S+: SUCCEEDED in/m);
      expect(result.stdout).toContain("stale-cleanup done");
      expect(result.code).toBe(0);
      expect(sandbox.faults.list().cloudRun ?? []).toEqual([]); // every injected fault was hit
    } finally {
      sandbox.faults.clear("cloudRun");
    }
  });

  it("release --from waits for the step already running instead of starting a second copy", async () => {
    const started = await cli(["run-job", "sandbox", "bootstrap", "--no-wait"], { env: env() });
    expect(started.code).toBe(0);
    const running = started.stdout.trim();
    sandbox.faults.set("cloudRun", {
      route: `GET /v2/${parent}/jobs/bootstrap-sandbox/executions`,
      status: 503,
      count: 2,
    });
    try {
      const result = await cli(["release", "sandbox", "--from", "bootstrap", "--json"], { env: env() });
      expect(result.stderr).toContain("is already running: waiting for it, not starting another");
      const summary = JSON.parse(result.stdout) as {
        steps: { step: string; execution: string; result: string }[];
      };
      expect(summary.steps[1]).toMatchObject({ step: "bootstrap", result: "succeeded" });
      expect(running.endsWith(`/${summary.steps[1]?.execution}`)).toBe(true);
      expect(result.code).toBe(0);
      expect(await executionsOf("bootstrap")).toHaveLength(1);
    } finally {
      sandbox.faults.clear("cloudRun");
    }
  });
});

describe("execution state as Cloud Run defines it", () => {
  it("does not call a run failed when completionTime arrives before the counts", async () => {
    sandbox.cloudRun.quirks.staleReads = 1;
    try {
      const result = await cli(["run-job", "sandbox", "quota-cleanup"], { env: env() });
      expect(result.stdout).toMatch(/^quota-cleanup-sandbox-\S+: SUCCEEDED in/m);
      expect(result.code).toBe(0);
    } finally {
      sandbox.cloudRun.quirks.staleReads = 0;
    }
  });

  it("list-jobs takes the newest run from latestCreatedExecution, whatever the list order", async () => {
    sandbox.cloudRun.quirks.listOrder = "oldest-first";
    try {
      const name = `${parent}/jobs/quota-reset-sandbox`;
      const run = async (env?: { name: string; value: string }[]) => {
        const [operation] = await jobs.runJob({ name, overrides: { containerOverrides: [{ env }] } });
        return (operation.metadata as { name: string }).name;
      };
      // More older successes than one page of 20, then the newest run fails.
      const older = await Promise.all(Array.from({ length: 21 }, () => run()));
      await Promise.all(older.map((execution) => sandbox.cloudRun.executions.settled(execution)));
      const newest = await run([{ name: "FAIL", value: "1" }]);
      await sandbox.cloudRun.executions.settled(newest);
      const result = await cli(["list-jobs", "sandbox", "--json"], { env: env() });
      const rows = JSON.parse(result.stdout) as {
        job: string;
        verdict: string;
        reason: string | null;
        lastExecution: { name: string };
      }[];
      const row = rows.find((r) => r.job === "quota-reset");
      expect(row?.lastExecution.name).toBe(newest);
      expect(row?.verdict).toBe("FAILED");
      expect(row?.reason).toMatch(/^quota-reset-sandbox-\S+ failed: /);
    } finally {
      sandbox.cloudRun.quirks.listOrder = "newest-first";
    }
  });
});

describe("a MISSED slot", () => {
  it("says what the Scheduler's last attempt got, and fails --check with one line per job", async () => {
    // Today's (or tomorrow's) 08:00 UTC slot of alerts: the Scheduler attempts it and :run answers 403.
    const slot = new Date();
    slot.setUTCHours(8, 0, 0, 0);
    if (slot.getTime() < Date.now()) slot.setUTCDate(slot.getUTCDate() + 1);
    sandbox.clock.set(new Date(slot.getTime() + 1000));
    sandbox.faults.set("cloudRun", { route: `POST /v2/${parent}/jobs/alerts-sandbox:run`, status: 403 });
    try {
      const attempt = await fetch(
        `${env().CLOUD_SCHEDULER_API_URL}/v1/${parent}/jobs/alerts-sandbox-trigger:run`,
        {
          method: "POST",
        },
      );
      expect(attempt.status).toBe(200);
    } finally {
      sandbox.faults.clear("cloudRun");
    }
    const now = () => new Date(slot.getTime() + 11 * 60_000);
    const json = await cli(["list-jobs", "sandbox", "--json"], { env: env(), now });
    const rows = JSON.parse(json.stdout) as { job: string; verdict: string; reason: string | null }[];
    expect(rows.find((r) => r.job === "alerts")).toMatchObject({
      verdict: "MISSED",
      reason: expect.stringMatching(/^last attempt \S+ failed: 403 PERMISSION_DENIED from :run/),
    });

    // And a job changed by hand: drift, which --check reports too.
    const [migrate] = await jobs.getJob({ name: `${parent}/jobs/migrate-sandbox` });
    if (migrate.template?.template) migrate.template.template.timeout = { seconds: 42 };
    await (await jobs.updateJob({ job: migrate }))[0].promise();

    const check = await cli(["list-jobs", "sandbox", "--check"], { env: env(), now });
    expect(check.code).toBe(1);
    expect(check.stdout).toMatch(
      /^alerts: MISSED: last attempt \S+ failed:\s+403\s+PERMISSION_DENIED\s+from\s+:run/m,
    );
    expect(check.stdout).toMatch(/^quota-reset: FAILED: quota-reset-sandbox-\S+ failed: /m);
    expect(check.stdout).toMatch(/^migrate: DRIFTED: job timeout$/m);
    expect(check.stdout).toMatch(/^check: \d+ jobs need attention \(.*alerts.*\)$/m);
  });
});
