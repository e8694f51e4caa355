/**
 * run-job, list-jobs and release against the sandbox: real executions (the sandbox spawns the entrypoint),
 * real logs through entries:list, faults on the admin API for the failures.
 */
import type { JobsClient } from "@google-cloud/run";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Sandbox, startSandbox } from "../../sandbox/index.ts";
import { jobsClient } from "../sandbox/cloud/helpers.ts";
import { cli, provisionSandbox } from "./support.ts";

let sandbox: Sandbox;
let jobs: JobsClient;
const parent = "projects/sandbox-project/locations/us-central1";
const env = () => sandbox.env;
const DAY = 86_400_000;

beforeAll(async () => {
  sandbox = await startSandbox({ quiet: true, scheduler: { autoTick: false } });
  jobs = jobsClient(sandbox.env.CLOUD_RUN_API_URL as string);
  await provisionSandbox(env());
});

afterAll(async () => {
  await jobs?.close();
  await sandbox?.stop();
});

/** The formatted log lines of one execution, read straight from the emulator's entries:list. */
async function logLinesOf(execution: string): Promise<string[]> {
  const response = await fetch(`${sandbox.env.CLOUD_RUN_API_URL}/v2/entries:list`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      resourceNames: ["projects/sandbox-project"],
      filter: `labels."run.googleapis.com/execution_name"="${execution}"`,
    }),
  });
  const body = (await response.json()) as { entries?: { timestamp: string }[] };
  return (body.entries ?? []).map((entry) => entry.timestamp);
}

const executionOf = (stdout: string): string =>
  /^(\S+): (SUCCEEDED|SKIPPED|FAILED|CANCELLED) in/m.exec(stdout)?.[1] ?? "";

describe("run-job", () => {
  it("runs a job, waits and exits 0 with its result and logs", async () => {
    const result = await cli(["run-job", "sandbox", "stale-cleanup"], { env: env() });
    expect(result.stderr).toContain("started stale-cleanup-sandbox-");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^stale-cleanup-sandbox-\S+: SUCCEEDED in/m);
    expect(result.stdout).toMatch(/--- logs of stale-cleanup-sandbox-\S+ \([1-9]\d* lines\) ---/);
  });

  it("shows SKIPPED with the job's reason when the overlap guard skipped the run, and exits 0", async () => {
    sandbox.faults.set("adminApi", { route: "POST /api/v1/quota/reset-daily", latencyMs: 4000 });
    try {
      const first = await cli(["run-job", "sandbox", "quota-reset", "--no-wait"], { env: env() });
      expect(first.code).toBe(0);
      await new Promise((resolve) => setTimeout(resolve, 1500)); // its task is inside the slow API call
      // Both start while the first still runs, so both are skipped.
      const [second, json] = await Promise.all([
        cli(["run-job", "sandbox", "quota-reset"], { env: env() }),
        cli(["run-job", "sandbox", "quota-reset", "--json"], { env: env() }),
      ]);
      expect(second.code).toBe(0);
      expect(second.stdout).toMatch(/^quota-reset-sandbox-\S+: SKIPPED in \S+: quota-reset skipped: .+/m);
      expect(second.stdout).not.toContain("SUCCEEDED");
      expect(json.code).toBe(0);
      expect(JSON.parse(json.stdout)).toMatchObject({ status: "skipped", message: expect.any(String) });
      await sandbox.cloudRun.executions.settled(first.stdout.trim());
    } finally {
      sandbox.faults.clear("adminApi");
    }
  });

  it("a second alerts run the same day is SKIPPED naming the first; --rerun runs it again on purpose", async () => {
    const first = await cli(["run-job", "sandbox", "alerts"], { env: env() });
    expect(first.code).toBe(0);
    const again = await cli(["run-job", "sandbox", "alerts"], { env: env() });
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/SKIPPED in \S+: alerts skipped: already done for \d{4}-\d{2}-\d{2}/);
    expect(again.stdout).toContain(executionOf(first.stdout));
    const rerun = await cli(["run-job", "sandbox", "alerts", "--rerun", "fix-1"], { env: env() });
    expect(rerun.code).toBe(0);
    // The API does not de-duplicate: a deliberate re-run evaluates and notifies again.
    expect(rerun.stdout).toMatch(/Alerts: \d+ orgs, \d+ triggered, \d+ notifications sent/);
  });

  it("refuses a --rerun label the runtime would refuse, before starting anything", async () => {
    const result = await cli(["run-job", "sandbox", "alerts", "--rerun", "fix 1"], { env: env() });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--rerun takes a label");
  });

  it("exits 1 on a failing job and prints that execution's logs, not another run's", async () => {
    const ok = await cli(["run-job", "sandbox", "alerts", "--dry-run"], { env: env() });
    expect(ok.code).toBe(0);
    sandbox.faults.set("adminApi", { route: "POST /api/v1/admin/alerts/process-all", status: 403 });
    try {
      // --rerun: alerts may already have succeeded today in this file, and would then skip.
      const failed = await cli(["run-job", "sandbox", "alerts", "--rerun", "fail-1"], { env: env() });
      expect(failed.code).toBe(1);
      expect(failed.stdout).toMatch(/^alerts-sandbox-\S+: FAILED in/m);
      expect(failed.stdout).toContain("403");
      const earlier = await logLinesOf(executionOf(ok.stdout));
      expect(earlier.length).toBeGreaterThan(0);
      for (const timestamp of earlier) expect(failed.stdout).not.toContain(timestamp);
      expect(failed.stdout).toContain((await logLinesOf(executionOf(failed.stdout)))[0]);
    } finally {
      sandbox.faults.clear("adminApi");
    }
  });

  it("--no-wait prints the execution and returns 0", async () => {
    const result = await cli(["run-job", "sandbox", "stale-cleanup", "--no-wait"], { env: env() });
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toMatch(
      /^projects\/sandbox-project\/locations\/us-central1\/jobs\/stale-cleanup-sandbox\/executions\/\S+$/,
    );
    await sandbox.cloudRun.executions.settled(result.stdout.trim());
  });

  it("on Ctrl-C without a terminal says how to cancel and stops waiting", async () => {
    sandbox.faults.set("adminApi", { route: "POST /api/v1/quota/cleanup-stale", latencyMs: 3000 });
    const interrupt = new AbortController();
    setTimeout(() => interrupt.abort(), 500);
    try {
      const result = await cli(["run-job", "sandbox", "stale-cleanup"], {
        env: env(),
        interrupt: interrupt.signal,
      });
      expect(result.code).toBe(130);
      expect(result.stderr).toMatch(
        /To cancel it: gcloud run jobs executions cancel stale-cleanup-sandbox-\S+ --region us-central1/,
      );
    } finally {
      sandbox.faults.clear("adminApi");
    }
  });

  it("on Ctrl-C at a terminal cancels the execution when told yes, and exits 1", async () => {
    sandbox.faults.set("adminApi", { route: "POST /api/v1/quota/cleanup-stale", latencyMs: 5000 });
    const interrupt = new AbortController();
    setTimeout(() => interrupt.abort(), 500);
    try {
      const result = await cli(["run-job", "sandbox", "stale-cleanup"], {
        env: env(),
        interrupt: interrupt.signal,
        isTTY: true,
        input: "yes\n",
      });
      expect(result.stderr).toContain("cancel requested");
      expect(result.stdout).toMatch(/: CANCELLED in/);
      expect(result.code).toBe(1);
    } finally {
      sandbox.faults.clear("adminApi");
    }
  });

  it("after a prod confirmation, Ctrl-C then yes cancels the execution, and exits 1", async () => {
    // prod pointed at the sandbox's emulator, with a prod copy of the sandbox's stale-cleanup job.
    const prodParent = "projects/cloudact-prod/locations/us-central1";
    const [source] = await jobs.getJob({ name: `${parent}/jobs/stale-cleanup-sandbox` });
    const [created] = await jobs.createJob({
      parent: prodParent,
      jobId: "stale-cleanup-prod",
      job: { labels: source.labels, template: source.template },
    });
    await created.promise();
    sandbox.faults.set("adminApi", { route: "POST /api/v1/quota/cleanup-stale", latencyMs: 5000 });
    const interrupt = new AbortController();
    setTimeout(() => interrupt.abort(), 500);
    try {
      const result = await cli(["run-job", "prod", "stale-cleanup"], {
        env: {
          CLOUD_RUN_API_URL: env().CLOUD_RUN_API_URL,
          CLOUD_SCHEDULER_API_URL: env().CLOUD_SCHEDULER_API_URL,
          SECRET_MANAGER_API_URL: env().SECRET_MANAGER_API_URL,
          GCE_METADATA_HOST: env().GCE_METADATA_HOST,
        },
        interrupt: interrupt.signal,
        isTTY: true,
        input: "yes\nyes\n",
      });
      expect(result.stderr).toContain("cancel requested");
      expect(result.code).toBe(1);
      const execution = /started (stale-cleanup-prod-\S+)/.exec(result.stderr)?.[1];
      // Cancelling is asynchronous (as on Cloud Run): the task is counted once its process has ended.
      const read = async () =>
        (await (
          await fetch(
            `${env().CLOUD_RUN_API_URL}/v2/${prodParent}/jobs/stale-cleanup-prod/executions/${execution}`,
          )
        ).json()) as { cancelledCount?: number; completionTime?: string };
      let doc = await read();
      for (let i = 0; i < 100 && !doc.completionTime; i++) {
        await new Promise((r) => setTimeout(r, 100));
        doc = await read();
      }
      expect(doc.cancelledCount).toBe(1);
    } finally {
      sandbox.faults.clear("adminApi");
    }
  });
});

describe("list-jobs", () => {
  const rowsAt = async (now: Date) => {
    const result = await cli(["list-jobs", "sandbox", "--json"], { env: env(), now: () => now });
    expect(result.code).toBe(0);
    const rows = JSON.parse(result.stdout) as {
      job: string;
      verdict: string;
      trigger: string | null;
      drift: string[];
    }[];
    return Object.fromEntries(rows.map((row) => [row.job, row]));
  };

  /** Changes a deployed job's timeout out of band: drift the plan shows as "job timeout". */
  const driftTimeout = async (job: string) => {
    const [deployed] = await jobs.getJob({ name: `${parent}/jobs/${job}-sandbox` });
    const template = deployed.template?.template;
    if (!template) throw new Error("no template");
    template.timeout = { seconds: 42 };
    const [operation] = await jobs.updateJob({ job: deployed });
    await operation.promise();
  };

  it("shows FAILED, DRIFTED, OK and NEVER RAN now, and MISSED once a slot passed without a run", async () => {
    await driftTimeout("quota-reset");
    // A run after its last slot (it succeeds, or skips cleanly on any day but the 1st: exit 0 either way).
    expect((await cli(["run-job", "sandbox", "quota-monthly"], { env: env() })).code).toBe(0);

    const now = await rowsAt(new Date());
    expect(now.alerts?.verdict).toBe("FAILED");
    expect(now["quota-reset"]).toMatchObject({ verdict: "DRIFTED", drift: ["job timeout"] });
    expect(now["quota-monthly"]?.verdict).toBe("OK");
    expect(now["quota-cleanup"]?.verdict).toBe("NEVER RAN");
    expect(now.migrate?.verdict).toBe("NEVER RAN");
    expect(now.alerts?.trigger).toBe("ENABLED");

    const later = await rowsAt(new Date(Date.now() + 2 * DAY));
    expect(later["quota-cleanup"]?.verdict).toBe("MISSED");
    expect(later.alerts?.verdict).toBe("FAILED");
  });

  it("shows a failed job that also drifted as FAILED, with its drift beside it", async () => {
    await driftTimeout("alerts");
    const rows = await rowsAt(new Date());
    expect(rows.alerts).toMatchObject({ verdict: "FAILED", drift: ["job timeout"] });
    const later = await rowsAt(new Date(Date.now() + 2 * DAY));
    expect(later["quota-reset"]).toMatchObject({ verdict: "MISSED", drift: ["job timeout"] });
    const table = await cli(["list-jobs", "sandbox"], { env: env() });
    expect(table.stdout).toMatch(/│ alerts .*│ FAILED \(drifted\)/);
  });

  it("prints one table with every job (--wide: with each time zone)", async () => {
    const result = await cli(["list-jobs", "sandbox", "--wide"], { env: env() });
    expect(result.code).toBe(0);
    for (const job of ["migrate", "quota-monthly", "DRIFTED", "5 0 1 * * (Etc/UTC)"])
      expect(result.stdout).toContain(job);
  });
});

describe("release", () => {
  it("stops at a failing bootstrap with its logs, and --from bootstrap finishes it", async () => {
    sandbox.faults.set("adminApi", { route: "GET /api/v1/admin/bootstrap/status", status: 403 });
    let failed: Awaited<ReturnType<typeof cli>>;
    try {
      failed = await cli(["release", "sandbox", "--from", "bootstrap"], { env: env() });
    } finally {
      sandbox.faults.clear("adminApi");
    }
    expect(failed.code).toBe(1);
    expect(failed.stdout).toMatch(/│ migrate\s+│ skipped \(--from\)/);
    expect(failed.stdout).toMatch(/│ bootstrap\s+│ failed/);
    expect(failed.stdout).toMatch(/│ org-sync-all\s+│ not run/);
    expect(failed.stdout).toMatch(/--- logs of bootstrap-sandbox-\S+ \([1-9]\d* lines\) ---/);
    expect(failed.stdout).toContain("403");
    expect(failed.stderr).toContain("resume: ./scripts/release.sh sandbox --from bootstrap");

    const resumed = await cli(["release", "sandbox", "--from", "bootstrap", "--json"], { env: env() });
    expect(resumed.code).toBe(0);
    const summary = JSON.parse(resumed.stdout) as { steps: { step: string; result: string }[]; ok: boolean };
    expect(summary.steps.map((step) => step.result)).toEqual(["skipped (--from)", "succeeded", "succeeded"]);
  });

  it("runs migrate → bootstrap → org-sync-all in order", async (context) => {
    // migrate needs the sandbox's Supabase Management API emulator; skipped only while the sandbox lacks it.
    if (!sandbox.env.SUPABASE_API_URL) context.skip();
    const result = await cli(["release", "sandbox", "--json"], { env: env() });
    const summary = JSON.parse(result.stdout) as { steps: { step: string; result: string }[] };
    expect(summary.steps.map((step) => `${step.step}:${step.result}`)).toEqual([
      "migrate:succeeded",
      "bootstrap:succeeded",
      "org-sync-all:succeeded",
    ]);
    expect(result.code).toBe(0);
  });

  it("refuses an unknown --from step with exit 2", async () => {
    const result = await cli(["release", "sandbox", "--from", "quota-reset"], { env: env() });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--from must be one of migrate, bootstrap, org-sync-all");
  });
});
