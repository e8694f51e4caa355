/**
 * Alert policies provisioned by create-all-jobs against the sandbox's Monitoring emulator, through the
 * official @google-cloud/monitoring client (REST): plan, apply, a second apply that changes nothing, an
 * in-place update with an update mask, prune of our own orphans only, --no-alerts, and a missing channel.
 */
import { AlertPolicyServiceClient } from "@google-cloud/monitoring";
import { googleAuthLibrary } from "google-gax";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { catalog } from "../../jobs/index.ts";
import { type Sandbox, startSandbox } from "../../sandbox/index.ts";
import { startMonitoring } from "../../sandbox/monitoring/server.ts";
import { cli } from "./support.ts";

let sandbox: Sandbox;
let policies: AlertPolicyServiceClient;
const scheduled = catalog.filter((job) => job.schedule).length;
/** failed-run, one missed-run per scheduled job, one overrun per job. */
const expected = 1 + scheduled + catalog.length;

beforeAll(async () => {
  sandbox = await startSandbox({ data: false, quiet: true, scheduler: { autoTick: false } });
  const url = new URL(sandbox.urls.monitoring);
  policies = new AlertPolicyServiceClient({
    apiEndpoint: url.hostname,
    port: Number(url.port),
    protocol: "http",
    fallback: true,
    auth: new googleAuthLibrary.GoogleAuth({ authClient: new googleAuthLibrary.PassThroughClient() }),
  });
});
afterAll(async () => {
  await policies?.close();
  await sandbox?.stop();
});

const run = (...args: string[]) => cli(["create-all-jobs", "sandbox", ...args], { env: sandbox.env });
const listOurs = async () =>
  (await policies.listAlertPolicies({ name: "projects/sandbox-project" }))[0].filter(
    (p) => p.userLabels?.["managed-by"] === "scheduler-jobs",
  );

describe("create-all-jobs and alert policies", () => {
  it("plans every policy, applies them labelled as ours, and a second apply changes nothing", async () => {
    const plan = await run("--plan", "--json");
    expect(plan.code).toBe(0);
    expect(JSON.parse(plan.stdout).alerts.summary).toEqual({
      create: expected,
      update: 0,
      unchanged: 0,
      orphan: 0,
    });
    const first = await run("--yes");
    expect(first.code, first.stderr).toBe(0);
    const deployed = await listOurs();
    expect(deployed).toHaveLength(expected);
    expect(deployed.map((p) => p.userLabels?.alert).filter((a) => a === "missed-run")).toHaveLength(
      scheduled,
    );
    expect(deployed.every((p) => p.userLabels?.environment === "sandbox")).toBe(true);
    expect(deployed.every((p) => p.notificationChannels?.length === 1)).toBe(true);
    const second = await run("--json");
    expect(second.code).toBe(0);
    expect(JSON.parse(second.stdout).alerts.summary).toEqual({
      create: 0,
      update: 0,
      unchanged: expected,
      orphan: 0,
    });
  });

  it("puts back a policy changed by hand, in place, with a mask of the changed fields", async () => {
    const [target] = (await listOurs()).filter((p) => p.userLabels?.alert === "failed-run");
    await policies.updateAlertPolicy({
      alertPolicy: { name: target?.name ?? "", displayName: "renamed by hand" },
      updateMask: { paths: ["display_name"] },
    });
    const plan = await run("--plan");
    // A change too wide for 80 columns puts its values under the field.
    expect(plan.stdout).toMatch(
      /displayName:\s+"renamed by hand" → "\[sandbox\] a scheduler-jobs execution failed"/,
    );
    expect((await run("--yes")).stdout).toContain("✓ policy failed-run/all: updated (displayName)");
    const [after] = await policies.getAlertPolicy({ name: target?.name ?? "" });
    expect(after.name).toBe(target?.name);
    expect(after.displayName).toBe("[sandbox] a scheduler-jobs execution failed");
  });

  it("deletes only its own orphans, and only with --prune", async () => {
    const labels = {
      "managed-by": "scheduler-jobs",
      environment: "sandbox",
      alert: "missed-run",
      job: "retired",
    };
    const query = "vector(1) > 2";
    const condition = { displayName: "c", conditionPrometheusQueryLanguage: { query } };
    const [orphan] = await policies.createAlertPolicy({
      name: "projects/sandbox-project",
      alertPolicy: { displayName: "ours, retired", userLabels: labels, conditions: [condition] },
    });
    const [foreign] = await policies.createAlertPolicy({
      name: "projects/sandbox-project",
      alertPolicy: { displayName: "another team's", userLabels: { team: "data" }, conditions: [condition] },
    });
    expect((await run("--plan")).stdout).toContain(
      "- orphan    policy  missed-run/retired (kept; --prune deletes it)",
    );
    expect((await run("--yes", "--prune")).stdout).toContain("✓ policy missed-run/retired: deleted");
    await expect(policies.getAlertPolicy({ name: orphan.name ?? "" })).rejects.toMatchObject({ code: 5 });
    expect((await policies.getAlertPolicy({ name: foreign.name ?? "" }))[0].displayName).toBe(
      "another team's",
    );
  });

  it("--no-alerts plans no policy at all", async () => {
    const plan = await run("--plan", "--json", "--no-alerts");
    expect(plan.code).toBe(0);
    expect(JSON.parse(plan.stdout).alerts).toBeUndefined();
  });

  it("refuses, before any change, when the environment's notification channel does not exist", async () => {
    const bare = await startMonitoring({
      now: () => new Date(),
      executions: () => [],
      channels: [],
      autoEvaluate: false,
    });
    try {
      const result = await cli(["create-all-jobs", "sandbox", "--yes"], {
        env: { ...sandbox.env, MONITORING_API_URL: bare.service.url },
      });
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('notification channel "Sandbox on-call"');
      expect(result.stderr).toContain("gcloud beta monitoring channels create");
      expect(result.stderr).toContain("--no-alerts");
      expect(result.stdout).not.toContain("Applying");
    } finally {
      await bare.stop();
    }
  });

  it("refuses an emulator target without a Monitoring emulator instead of calling Google", async () => {
    const result = await cli(["create-all-jobs", "sandbox", "--plan"], {
      env: { ...sandbox.env, MONITORING_API_URL: "" },
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("MONITORING_API_URL");
  });
});
