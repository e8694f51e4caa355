/**
 * `executions` and `list-jobs --history` against the sandbox, through the real Cloud Run client and Cloud
 * Logging's entries:list: runs made by run-job, release and a plain `:run` (the console's way), each with
 * its trigger; describe, logs, and a cancel that prod confirms first. The history's past days are seeded
 * into the emulator's execution store (the sandbox's clock cannot date an execution in the past).
 */
import { randomUUID } from "node:crypto";
import type { JobsClient } from "@google-cloud/run";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Sandbox, startSandbox } from "../../sandbox/index.ts";
import { jobsClient } from "../sandbox/cloud/helpers.ts";
import { cli, provisionSandbox } from "./support.ts";

let sandbox: Sandbox;
let jobs: JobsClient;
const parent = "projects/sandbox-project/locations/us-central1";
const env = () => sandbox.env;
const started: Record<string, string> = {};

const nameIn = (text: string, job: string) =>
  new RegExp(`(${job}-sandbox-[a-z0-9]{5})`).exec(text)?.[1] ?? "";

beforeAll(async () => {
  sandbox = await startSandbox({ quiet: true, scheduler: { autoTick: false } });
  jobs = jobsClient(sandbox.env.CLOUD_RUN_API_URL as string);
  await provisionSandbox(env());
  const manual = await cli(["run-job", "sandbox", "quota-reset"], { env: env() });
  started.manual = nameIn(manual.stderr, "quota-reset");
  const release = await cli(["release", "sandbox", "--from", "org-sync-all"], { env: env() });
  started.release = nameIn(release.stdout, "org-sync-all");
  // What the console or gcloud does: a plain :run, no overrides.
  const [op] = await jobs.runJob({ name: `${parent}/jobs/stale-cleanup-sandbox` });
  started.other = ((op.metadata as { name: string }).name.split("/").pop() as string) ?? "";
  await sandbox.cloudRun.executions.settled(
    `${parent}/jobs/stale-cleanup-sandbox/executions/${started.other}`,
  );
}, 180_000);

afterAll(async () => {
  await jobs?.close();
  await sandbox?.stop();
});

const widest = (text: string) => Math.max(...text.split("\n").map((line) => [...line].length));

describe("executions <env>", () => {
  it("lists recent runs with trigger, result, duration and log link, in 80 columns", async () => {
    const json = await cli(["executions", "sandbox", "--json"], { env: env() });
    expect(json.code).toBe(0);
    const rows = JSON.parse(json.stdout) as {
      execution: string;
      trigger: string;
      result: string;
      durationMs: number;
      logUri: string;
    }[];
    const byName = Object.fromEntries(rows.map((row) => [row.execution, row]));
    expect(byName[started.manual as string]).toMatchObject({ trigger: "manual", result: "succeeded" });
    expect(byName[started.release as string]).toMatchObject({ trigger: "release", result: "succeeded" });
    expect(byName[started.other as string]).toMatchObject({ trigger: "other", result: "succeeded" });
    for (const row of rows) {
      expect(row.durationMs).toBeGreaterThan(0);
      expect(row.logUri).toContain(row.execution);
    }

    const text = await cli(["executions", "sandbox"], { env: env() });
    expect(text.stdout).toMatch(
      new RegExp(`${started.manual} +manual +succeeded +\\d\\d-\\d\\d \\d\\d:\\d\\d +\\d+\\.\\ds`),
    );
    expect(widest(text.stdout)).toBeLessThanOrEqual(80);
    const one = await cli(["executions", "sandbox", "quota-reset"], { env: env() });
    expect(one.stdout).toContain(started.manual);
    expect(one.stdout).not.toContain(started.release);
  });

  it("describes one run and prints its own logs", async () => {
    const described = await cli(["executions", "sandbox", "describe", started.manual as string], {
      env: env(),
    });
    expect(described.code).toBe(0);
    expect(described.stdout).toMatch(/^trigger +manual \(run-job\)$/m);
    expect(described.stdout).toMatch(/^result +SUCCEEDED$/m);
    expect(described.stdout).toMatch(/^args +quota-reset$/m);
    expect(described.stdout).toContain(
      `/sandbox/logs/${parent}/jobs/quota-reset-sandbox/executions/${started.manual}`,
    );
    const logs = await cli(["executions", "sandbox", "logs", started.manual as string, "--tail", "1"], {
      env: env(),
    });
    expect(logs.stdout).toMatch(/\[task 0\] quota-reset succeeded: /);
    expect(logs.stdout).toMatch(/earlier line\(s\) not shown/);
  });

  it("a run-job --rerun says what the API did this time, and is listed as manual", async () => {
    const rerun = await cli(["run-job", "sandbox", "alerts", "--rerun", "fix-1"], { env: env() });
    expect(rerun.code).toBe(0);
    expect(rerun.stdout).toContain("--rerun fix-1: a deliberate re-run, so the job skipped its once-per-day");
    expect(rerun.stdout).toMatch(/The API this time: \d+ alert\(s\) triggered, \d+ notification\(s\) sent/);
    const described = await cli(["executions", "sandbox", "describe", nameIn(rerun.stderr, "alerts")], {
      env: env(),
    });
    expect(described.stdout).toMatch(/^rerun +fix-1 /m);
    expect(described.stdout).toMatch(/^trigger +manual /m);
  });

  it.each([
    [["describe", "quota-reset-sandbox-zzzzz"], "not found in sandbox"],
    [["describe", "nonsense"], "is not an execution name"],
    [["cancel"], "cancel needs an execution name"],
    [["no-such-job"], 'unknown job "no-such-job"'],
  ])("refuses %j with exit 2 and the fix", async (argv, message) => {
    const result = await cli(["executions", "sandbox", ...argv], { env: env() });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
  });

  it("in prod asks before a cancel: no answer cancels nothing; yes cancels", async () => {
    const prodParent = "projects/cloudact-prod/locations/us-central1";
    const [source] = await jobs.getJob({ name: `${parent}/jobs/stale-cleanup-sandbox` });
    const [created] = await jobs.createJob({
      parent: prodParent,
      jobId: "stale-cleanup-prod",
      job: { labels: source.labels, template: source.template },
    });
    await created.promise();
    sandbox.faults.set("adminApi", { route: "POST /api/v1/admin/quota/cleanup-stale", latencyMs: 5000 });
    // prod takes real credentials (ADC): here from the sandbox's metadata server.
    const prodEnv = {
      CLOUD_RUN_API_URL: env().CLOUD_RUN_API_URL,
      GCE_METADATA_HOST: env().GCE_METADATA_HOST,
    };
    try {
      const [op] = await jobs.runJob({ name: `${prodParent}/jobs/stale-cleanup-prod` });
      const full = (op.metadata as { name: string }).name;
      const short = full.split("/").pop() as string;
      const declined = await cli(["executions", "prod", "cancel", short], { env: prodEnv, input: "" });
      expect(declined.code).toBe(1);
      expect(declined.stderr).toContain(`About to cancel execution ${short} in prod`);
      expect(declined.stderr).toContain("aborted: nothing was changed");
      const running = await cli(["executions", "prod", "describe", short, "--json"], { env: prodEnv });
      expect(JSON.parse(running.stdout)).toMatchObject({ result: "running", trigger: "other" });

      const confirmed = await cli(["executions", "prod", "cancel", short], { env: prodEnv, input: "yes\n" });
      expect(confirmed.code).toBe(0);
      expect(confirmed.stdout).toContain(`cancel requested for ${short}`);
      await sandbox.cloudRun.executions.settled(full);
      const after = await cli(["executions", "prod", "describe", short, "--json"], { env: prodEnv });
      expect(JSON.parse(after.stdout)).toMatchObject({ result: "cancelled" });
      const again = await cli(["executions", "prod", "cancel", short, "--yes"], { env: prodEnv });
      expect(again.code).toBe(0);
      expect(again.stderr).toContain("has already ended (cancelled): nothing to cancel");
    } finally {
      sandbox.faults.clear("adminApi");
    }
  }, 30_000);
});

describe("list-jobs <env> --history", () => {
  const DAY = 86_400_000;
  const base = Date.parse(`${new Date().toISOString().slice(0, 10)}T00:00:00Z`);
  const at = (days: number, time: string) => new Date(base + days * DAY + Date.parse(`1970-01-01T${time}Z`));
  const now = at(3, "12:00:00");

  /** An execution dated `when`, copied from a real one: what the scheduler (no marker) or run-job made. */
  function seed(
    job: string,
    when: Date,
    result: "succeeded" | "failed" | "running",
    by: "scheduler" | "manual",
  ) {
    const store = sandbox.cloudRun.executions.deps.executions;
    const sample = structuredClone(
      store.get(`${parent}/jobs/quota-reset-sandbox/executions/${started.manual}`),
    );
    if (!sample) throw new Error("no sample execution");
    const id = `${job}-sandbox-${randomUUID().replace(/-/g, "").slice(0, 5)}`;
    const container = sample.template.containers?.[0];
    if (container) {
      container.args = [job];
      container.env = (container.env ?? []).filter((e) => e.name !== "JOB_TRIGGER");
      if (by === "manual") container.env.push({ name: "JOB_TRIGGER", value: "manual" });
    }
    const end = new Date(when.getTime() + 5000).toISOString();
    const doc = {
      ...sample,
      name: `${parent}/jobs/${job}-sandbox/executions/${id}`,
      job: `${job}-sandbox`,
      createTime: when.toISOString(),
      startTime: when.toISOString(),
      ...(result === "running" ? {} : { completionTime: end }),
      runningCount: result === "running" ? 1 : 0,
      succeededCount: result === "succeeded" ? 1 : 0,
      failedCount: result === "failed" ? 1 : 0,
      taskCount: 1,
      // Cloud Run's end of an execution is its Completed condition (CONTRACT §4), so it must agree.
      conditions: [
        {
          type: "Completed",
          state:
            result === "running"
              ? "CONDITION_RECONCILING"
              : result === "succeeded"
                ? "CONDITION_SUCCEEDED"
                : "CONDITION_FAILED",
          lastTransitionTime: end,
        },
      ],
    };
    if (result === "running") delete (doc as { completionTime?: string }).completionTime;
    store.set(doc.name, doc);
    return id;
  }

  it("draws one row per job and one column per day, manual runs marked, and --json for scripts", async () => {
    seed("quota-reset", at(1, "00:00:20"), "succeeded", "scheduler");
    seed("quota-reset", at(2, "00:00:20"), "failed", "scheduler");
    seed("quota-reset", at(2, "09:30:00"), "succeeded", "manual");
    seed("stale-cleanup", at(3, "02:00:30"), "running", "scheduler");
    const skipped = seed("quota-monthly", at(1, "00:05:10"), "succeeded", "scheduler");
    sandbox.cloudRun.executions.deps.logs.append(
      {
        project: "sandbox-project",
        location: "us-central1",
        job: "quota-monthly-sandbox",
        execution: skipped,
        taskIndex: 0,
        attempt: 0,
      },
      "stdout",
      JSON.stringify({
        severity: "INFO",
        message: "quota-monthly skipped: not the 1st",
        status: "skipped",
        exit_code: 0,
      }),
      at(1, "00:05:12"),
    );

    const json = await cli(["list-jobs", "sandbox", "--history", "7", "--json"], {
      env: env(),
      now: () => now,
    });
    expect(json.code).toBe(0);
    const history = JSON.parse(json.stdout) as {
      days: string[];
      jobs: { job: string; days: { state: string; manual: boolean }[] }[];
    };
    expect(history.days).toHaveLength(7);
    expect(history.days.at(-1)).toBe(now.toISOString().slice(0, 10));
    const row = (job: string) => history.jobs.find((r) => r.job === job)?.days.slice(-3);
    // Days before the job existed are "none", not missed; a day with no run after its slot is missed.
    expect(row("quota-reset")).toEqual([
      {
        date: history.days[4],
        state: "succeeded",
        manual: false,
        runs: [expect.objectContaining({ trigger: "scheduler" })],
      },
      expect.objectContaining({
        state: "succeeded",
        manual: true,
        runs: [expect.anything(), expect.anything()],
      }),
      expect.objectContaining({ state: "missed", manual: false, runs: [] }),
    ]);
    expect(row("stale-cleanup")?.[2]).toMatchObject({ state: "running", manual: false });
    expect(row("quota-monthly")?.[0]).toMatchObject({ state: "skipped" });
    expect(history.jobs.map((r) => r.job)).toContain("migrate");

    const text = await cli(["list-jobs", "sandbox", "--history"], { env: env(), now: () => now });
    expect(text.stdout).toMatch(/^quota-reset {4}(· {5}){3}ok\* {3}ok {4}ok\* {3}MISS$/m);
    expect(text.stdout).toMatch(/^stale-cleanup +(\S+ +){6}run$/m);
    expect(widest(text.stdout)).toBeLessThanOrEqual(80);
    const month = await cli(["list-jobs", "sandbox", "--history", "21"], { env: env(), now: () => now });
    expect(month.stdout).toMatch(/^quota-reset +(· {2}){17}o\* o {2}o\* M$/m);
    expect(widest(month.stdout)).toBeLessThanOrEqual(80);
  });

  it.each([["0"], ["32"], ["x"]])("refuses --history %s with exit 2", async (days) => {
    const result = await cli(["list-jobs", "sandbox", `--history=${days}`], { env: env() });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--history takes a number of days from 1 to 31");
  });
});
