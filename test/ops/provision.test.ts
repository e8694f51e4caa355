/**
 * create-all-jobs against the sandbox with the real Google clients: plan, apply, idempotence, in-place
 * updates, prune, and the prod confirmation (prod pointed at the sandbox through the emulator override).
 */
import { JobsClient } from "@google-cloud/run";
import { CloudSchedulerClient } from "@google-cloud/scheduler";
import { SecretManagerServiceClient } from "@google-cloud/secret-manager";
import { googleAuthLibrary } from "google-gax";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { catalog } from "../../jobs/index.ts";
import { startSandbox } from "../../sandbox/index.ts";
import type { AnyJob } from "../../src/runtime/job.ts";
import { catalogCounts } from "../helpers/catalog-counts.ts";
import { type CountingProxy, cli, countingProxy } from "./support.ts";

const n = catalogCounts();

type Sandbox = Awaited<ReturnType<typeof startSandbox>>;
const DIGEST_REF = `us-central1-docker.pkg.dev/cloudact-testing-1/scheduler-jobs/jobs@sha256:${"0f".repeat(32)}`;
let sandbox: Sandbox;
let jobs: JobsClient;
let scheduler: CloudSchedulerClient;
const parent = "projects/sandbox-project/locations/us-central1";

function clientOptions(url: string) {
  const { hostname, port } = new URL(url);
  return {
    apiEndpoint: hostname,
    port: Number(port),
    protocol: "http" as const,
    fallback: true,
    auth: new googleAuthLibrary.GoogleAuth({ authClient: new googleAuthLibrary.PassThroughClient() }),
  };
}

beforeAll(async () => {
  sandbox = await startSandbox({ quiet: true, scheduler: { autoTick: false } });
  jobs = new JobsClient(clientOptions(sandbox.env.CLOUD_RUN_API_URL as string));
  scheduler = new CloudSchedulerClient(clientOptions(sandbox.env.CLOUD_SCHEDULER_API_URL as string));
});

afterAll(async () => {
  await Promise.allSettled([jobs?.close(), scheduler?.close()]);
  await sandbox?.stop();
});

const env = () => sandbox.env as Record<string, string>;
const withSchedule = (name: string, cron: string): readonly AnyJob[] =>
  catalog.map((job) =>
    job.name === name && job.schedule ? { ...job, schedule: { ...job.schedule, cron } } : job,
  );

describe("create-all-jobs in the sandbox", () => {
  it("plans a create for every job and trigger on an empty project and changes nothing with --plan", async () => {
    const result = await cli(["create-all-jobs", "sandbox", "--plan"], { env: env() });
    expect(result.stderr).toContain("preflight: secrets found");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Plan: ${n.resources} to create, 0 to update, 0 unchanged, 0 orphaned`);
    const [existing] = await jobs.listJobs({ parent });
    expect(existing).toHaveLength(0);
  });

  it("applies every create, and a second apply changes nothing", async () => {
    const first = await cli(["create-all-jobs", "sandbox"], { env: env() });
    // The jobs and triggers, plus the alert policies derived from the catalog.
    expect(first.stdout).toContain(`Applied: ${n.resources + n.policies} done, 0 failed.`);
    expect(first.code).toBe(0);
    const [runJobs] = await jobs.listJobs({ parent });
    const [triggers] = await scheduler.listJobs({ parent });
    expect(runJobs).toHaveLength(n.jobs);
    expect(triggers).toHaveLength(n.triggers);
    const second = await cli(["create-all-jobs", "sandbox", "--json"], { env: env() });
    expect(second.code).toBe(0);
    expect(JSON.parse(second.stdout).summary).toEqual({
      create: 0,
      update: 0,
      unchanged: n.resources,
      orphan: 0,
    });
    expect(second.stderr).toContain("Nothing to change.");
  });

  it("deploys secrets as secretKeyRef, never as values", async () => {
    const [job] = await jobs.getJob({ name: `${parent}/jobs/bootstrap-sandbox` });
    const env = job.template?.template?.containers?.[0]?.env ?? [];
    const key = env.find((variable) => variable.name === "CA_ROOT_API_KEY");
    expect(key?.value ?? "").toBe("");
    expect(key?.valueSource?.secretKeyRef?.secret).toBe("ca-root-api-key-sandbox");
  });

  it("applies a changed schedule as one in-place update of exactly that field", async () => {
    const name = `${parent}/jobs/alerts-sandbox-trigger`;
    const [before] = await scheduler.getJob({ name });
    const changed = withSchedule("alerts", "30 9 * * *");
    const plan = await cli(["create-all-jobs", "sandbox", "--plan"], { env: env(), catalog: changed });
    expect(plan.stdout).toContain(`Plan: 0 to create, 1 to update, ${n.resources - 1} unchanged, 0 orphaned`);
    expect(plan.stdout).toContain('schedule: "0 8 * * *" → "30 9 * * *"');
    // Through a counting proxy: the wire shows one PATCH with a mask of exactly that field, no delete, no create.
    const proxy = await countingProxy(env().CLOUD_SCHEDULER_API_URL as string);
    const apply = await cli(["create-all-jobs", "sandbox"], {
      env: { ...env(), CLOUD_SCHEDULER_API_URL: proxy.url },
      catalog: changed,
    });
    await proxy.close();
    expect(apply.code).toBe(0);
    expect(apply.stdout).toContain("updated (schedule)");
    expect(proxy.mutating()).toEqual([
      expect.stringMatching(/^PATCH \/v1\/.*alerts-sandbox-trigger\?.*updateMask=schedule(&|$)/),
    ]);
    const [after] = await scheduler.getJob({ name });
    expect(after.schedule).toBe("30 9 * * *");
    expect(after.description).toBe(before.description);
    const again = await cli(["create-all-jobs", "sandbox", "--plan"], { env: env(), catalog: changed });
    expect(again.stdout).toContain(`0 to update, ${n.resources} unchanged`);
  });

  it("refuses a schedule in a skipped or repeated local hour before any request, naming the fix", async () => {
    const dst = catalog.map((job) =>
      job.name === "alerts"
        ? { ...job, schedule: { cron: "30 2 * * *", timeZone: "America/New_York" } }
        : job,
    );
    const proxies = await Promise.all(
      ["CLOUD_RUN_API_URL", "CLOUD_SCHEDULER_API_URL", "SECRET_MANAGER_API_URL"].map(async (k) => ({
        k,
        proxy: await countingProxy(env()[k] as string),
      })),
    );
    const routed = Object.fromEntries(proxies.map(({ k, proxy }) => [k, proxy.url]));
    const result = await cli(["create-all-jobs", "sandbox"], { env: { ...env(), ...routed }, catalog: dst });
    await Promise.all(proxies.map(({ proxy }) => proxy.close()));
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /job "alerts": schedule: .*skipped.*Use timeZone "Etc\/UTC", or move the time/,
    );
    expect(proxies.map(({ proxy }) => proxy.requests.length)).toEqual([0, 0, 0]);
  });

  it("updates a Cloud Run job in place: same job, execution history kept", async () => {
    const name = `${parent}/jobs/quota-reset-sandbox`;
    const run = await cli(["run-job", "sandbox", "quota-reset"], { env: env() });
    expect(run.code).toBe(0);
    const [before] = await jobs.getJob({ name });
    const slower = catalog.map((job) =>
      job.name === "quota-reset" ? { ...job, timeoutSeconds: 1234 } : job,
    );
    const apply = await cli(["create-all-jobs", "sandbox"], { env: env(), catalog: withScheduleOn(slower) });
    expect(apply.stdout).toContain('timeout: "900s" → "1234s"');
    const [after] = await jobs.getJob({ name });
    expect(after.uid).toBe(before.uid);
    expect(String(after.createTime?.seconds)).toBe(String(before.createTime?.seconds));
    expect(after.executionCount).toBe(before.executionCount);
    expect(after.executionCount).toBeGreaterThan(0);
  });

  it("pauses a trigger the catalog marks paused", async () => {
    const paused = withScheduleOn(catalog).map((job) =>
      job.name === "quota-monthly" && job.trigger
        ? { ...job, trigger: { ...job.trigger, paused: true } }
        : job,
    );
    const apply = await cli(["create-all-jobs", "sandbox"], { env: env(), catalog: paused });
    expect(apply.stdout).toContain('paused: "false" → "true"');
    expect(apply.code).toBe(0);
    const status = await cli(["list-jobs", "sandbox", "--json"], { env: env(), catalog: paused });
    const row = (JSON.parse(status.stdout) as { job: string; trigger: string; verdict: string }[]).find(
      (candidate) => candidate.job === "quota-monthly",
    );
    expect(row).toMatchObject({ trigger: "PAUSED", verdict: "NEVER RAN" });
  });

  it("prunes a labelled orphan and leaves foreign and other environments' jobs alone", async () => {
    const image = "sandbox.local/scheduler-jobs/jobs:latest";
    const create = async (jobId: string, labels: Record<string, string>) => {
      const [operation] = await jobs.createJob({
        parent,
        jobId,
        job: { labels, template: { template: { containers: [{ image, args: ["quota-reset"] }] } } },
      });
      await operation.promise();
    };
    await create("retired-sandbox", { "managed-by": "scheduler-jobs", environment: "sandbox" });
    await create("retired-stage", { "managed-by": "scheduler-jobs", environment: "stage" });
    await create("foreign-job", { team: "data" });
    const plan = await cli(["create-all-jobs", "sandbox", "--plan"], {
      env: env(),
      catalog: withScheduleOn(catalog),
    });
    expect(plan.stdout).toContain("- orphan    run-job retired-sandbox (kept; --prune deletes it)");
    expect(plan.stdout).not.toContain("foreign-job");
    const prune = await cli(["create-all-jobs", "sandbox", "--prune"], { env: env() });
    expect(prune.code).toBe(0);
    expect(prune.stdout).toContain("retired-sandbox: deleted");
    const [left] = await jobs.listJobs({ parent });
    const names = left.map((job) => job.name?.split("/").pop());
    expect(names).not.toContain("retired-sandbox");
    expect(names).toEqual(expect.arrayContaining(["retired-stage", "foreign-job"]));
  });

  it("keeps fields set outside this tool through an update, and the plan shows no change for them", async () => {
    const name = `${parent}/jobs/quota-reset-sandbox`;
    const [deployed] = await jobs.getJob({ name });
    const task = deployed.template?.template;
    if (!task) throw new Error("no task template");
    const connector = "projects/sandbox-project/locations/us-central1/connectors/vpc-1";
    task.vpcAccess = { connector, egress: "ALL_TRAFFIC" };
    task.executionEnvironment = "EXECUTION_ENVIRONMENT_GEN2";
    deployed.annotations = { "example.com/owner": "platform" };
    task.timeout = { seconds: 42 }; // a managed field, so the apply has an update to make
    const [operation] = await jobs.updateJob({ job: deployed });
    await operation.promise();

    const plan = await cli(["create-all-jobs", "sandbox", "--plan", "--json"], { env: env() });
    const updates = (
      JSON.parse(plan.stdout) as { items: { name: string; action: string; changes: { field: string }[] }[] }
    ).items.filter((item) => item.action === "update");
    expect(updates.map((item) => [item.name, item.changes.map((c) => c.field)])).toEqual([
      ["quota-reset-sandbox", ["timeout"]],
    ]);
    const apply = await cli(["create-all-jobs", "sandbox"], { env: env() });
    expect(apply.stdout).toContain("Applied: 1 done, 0 failed.");
    const [after] = await jobs.getJob({ name });
    expect(after.template?.template?.vpcAccess?.connector).toBe(connector);
    expect(String(after.template?.template?.executionEnvironment)).toMatch(/GEN2|^2$/);
    expect(after.annotations).toMatchObject({ "example.com/owner": "platform" });
    expect(String(after.template?.template?.timeout?.seconds)).toBe("900");
    const again = await cli(["create-all-jobs", "sandbox", "--plan", "--json"], { env: env() });
    expect(JSON.parse(again.stdout).summary).toEqual({
      create: 0,
      update: 0,
      unchanged: n.resources,
      orphan: 0,
    });
  });
});

/** The catalog as deployed at that point of the file (alerts moved to 09:30 by an earlier test). */
function withScheduleOn(jobsList: readonly AnyJob[]): readonly AnyJob[] {
  return jobsList.map((job) =>
    job.name === "alerts" && job.schedule
      ? { ...job, schedule: { ...job.schedule, cron: "30 9 * * *" } }
      : job,
  );
}

describe("prod confirmation", () => {
  let run: CountingProxy;
  let sched: CountingProxy;
  let secrets: CountingProxy;
  const prodEnv = () => ({
    CLOUD_RUN_API_URL: run.url,
    CLOUD_SCHEDULER_API_URL: sched.url,
    SECRET_MANAGER_API_URL: secrets.url,
    // prod's credentials, as on Google Cloud: the metadata server (only `sandbox` skips credentials).
    GCE_METADATA_HOST: sandbox.env.GCE_METADATA_HOST,
  });
  const mutating = () => [...run.mutating(), ...sched.mutating(), ...secrets.mutating()];

  beforeAll(async () => {
    [run, sched, secrets] = await Promise.all([
      countingProxy(sandbox.env.CLOUD_RUN_API_URL as string),
      countingProxy(sandbox.env.CLOUD_SCHEDULER_API_URL as string),
      countingProxy(sandbox.env.SECRET_MANAGER_API_URL as string),
    ]);
    // The prod secrets must exist for the preflight to pass (the sandbox seeds only its own).
    const client = new SecretManagerServiceClient(
      clientOptions(sandbox.env.SECRET_MANAGER_API_URL as string),
    );
    for (const secretId of [
      "ca-root-api-key-prod",
      "supabase-access-token-prod",
      "ca-root-api-key-test",
      "supabase-access-token-test",
    ]) {
      await client.createSecret({
        parent: secretId.endsWith("-prod") ? "projects/cloudact-prod" : "projects/cloudact-testing-1",
        secretId,
        secret: { replication: { automatic: {} } },
      });
    }
    await client.close();
  });
  afterAll(async () => {
    await Promise.allSettled([run?.close(), sched?.close(), secrets?.close()]);
  });

  it.each([
    ["a declined answer", "no\n"],
    ["an empty stdin", ""],
    ["a closed stdin", undefined],
  ])(
    "create-all-jobs prod with %s shows the plan, aborts and sends nothing mutating",
    async (_what, input) => {
      const result = await cli(["create-all-jobs", "prod", "--no-alerts", "--image", DIGEST_REF], {
        env: prodEnv(),
        input,
      });
      expect(result.code).toBe(1);
      expect(result.stdout).toContain(`Plan: ${n.resources} to create`);
      expect(result.stderr).toContain("aborted: nothing was changed");
      expect(run.requests.length).toBeGreaterThan(0);
      expect(mutating()).toEqual([]);
    },
  );

  it.each([
    ["run-job", ["run-job", "prod", "quota-reset"]],
    ["release", ["release", "prod"]],
  ])("%s prod without a yes contacts nothing", async (_what, argv) => {
    const before = run.requests.length + sched.requests.length;
    const result = await cli(argv, { env: prodEnv(), input: "" });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("aborted: nothing was changed");
    expect(run.requests.length + sched.requests.length).toBe(before);
  });

  it("plans prod's own API URL, never the operator's shell API_SERVICE_URL", async () => {
    const result = await cli(
      ["create-all-jobs", "prod", "--no-alerts", "--plan", "--json", "--image", DIGEST_REF],
      {
        env: { ...prodEnv(), API_SERVICE_URL: "https://laptop.example.com" },
      },
    );
    expect(result.code).toBe(0);
    const plan = JSON.parse(result.stdout) as { items: { changes: { field: string; to?: string }[] }[] };
    const urls = plan.items.flatMap((item) =>
      item.changes.filter((c) => c.field === "env.API_SERVICE_URL").map((c) => c.to),
    );
    expect(urls.length).toBeGreaterThan(0);
    expect(new Set(urls)).toEqual(new Set(["https://api.cloudact.ai"]));
  });

  it("refuses an --api-url for prod that differs from the environments table, sending nothing", async () => {
    const before = run.requests.length;
    const result = await cli(
      ["create-all-jobs", "prod", "--yes", "--image", DIGEST_REF, "--api-url", "https://laptop.example.com"],
      { env: prodEnv() },
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("prod's URL lives in src/runtime/environments.ts");
    expect(run.requests.length).toBe(before);
  });

  it.each([
    [
      "a tag",
      "us-central1-docker.pkg.dev/cloudact-prod/scheduler-jobs/jobs:1.4.0",
      "prod deploys images by digest only",
    ],
    [
      "no tag at all",
      "us-central1-docker.pkg.dev/cloudact-prod/scheduler-jobs/jobs",
      "prod deploys images by digest only",
    ],
    ["a short digest", "repo/jobs@sha256:abc", "malformed digest"],
    ["a bare digest", "sha256:abc", "is a digest without its repository"],
    ["text with spaces", "my image", "is not an image reference"],
  ])("refuses %s as prod's --image before any call (exit 2, fix named)", async (_what, image, message) => {
    const before = run.requests.length + sched.requests.length + secrets.requests.length;
    const result = await cli(["create-all-jobs", "prod", "--yes", "--image", image], { env: prodEnv() });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
    expect(result.stderr).toMatch(/@sha256:/);
    expect(run.requests.length + sched.requests.length + secrets.requests.length).toBe(before);
  });

  it("refuses a malformed --image in the sandbox too", async () => {
    const result = await cli(["create-all-jobs", "sandbox", "--plan", "--image", "Jobs:latest"], {
      env: env(),
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("is not an image reference");
  });

  it("lets stage deploy a tag, with a warning in the plan", async () => {
    const image = "us-central1-docker.pkg.dev/cloudact-testing-1/scheduler-jobs/jobs:stage";
    const result = await cli(
      [
        "create-all-jobs",
        "stage",
        "--no-alerts",
        "--plan",
        "--image",
        image,
        "--api-url",
        "https://api.stage.example.com",
      ],
      { env: prodEnv() },
    );
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`! warning: --image ${image} has the tag "stage"`);
    // Too wide for one line at 80 columns: the field, then its values under it.
    expect(result.stdout).toMatch(
      new RegExp(`image:\\s+\\(none\\)\\s+→ "${image.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}"`),
    );
  });

  it("applies in prod after yes on stdin", async () => {
    const result = await cli(["create-all-jobs", "prod", "--no-alerts", "--image", DIGEST_REF], {
      env: prodEnv(),
      input: "yes\n",
    });
    expect(result.stdout).toContain(`Applied: ${n.resources} done, 0 failed.`);
    expect(result.code).toBe(0);
    const [prodJobs] = await jobs.listJobs({ parent: "projects/cloudact-prod/locations/us-central1" });
    expect(prodJobs.map((job) => job.name?.split("/").pop())).toContain("quota-reset-prod");
  });
});
