import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { catalog } from "../../jobs/index.ts";
import { findJob, validateFlags } from "../../src/ops/catalog.ts";
import { splitArgs } from "../../src/ops/commands/run-job.ts";
import { confirm } from "../../src/ops/confirm.ts";
import { desiredState, type RunJob, type Trigger } from "../../src/ops/desired.ts";
import { resolveIo } from "../../src/ops/io.ts";
import { flattenRunJob, flattenTrigger } from "../../src/ops/normalize.ts";
import { buildPlan, count } from "../../src/ops/plan.ts";
import { expandHome } from "../../src/ops/preflight.ts";
import { parseEnvironment, type Target } from "../../src/ops/target.ts";
import { ENVIRONMENTS } from "../../src/runtime/environments.ts";
import { catalogCounts } from "../helpers/catalog-counts.ts";

const n = catalogCounts();

const sandboxTarget: Target = {
  env: ENVIRONMENTS.sandbox,
  endpoints: {
    cloudRun: "http://127.0.0.1:1",
    scheduler: "http://127.0.0.1:2",
    secretManager: "http://127.0.0.1:3",
    env: { API_SERVICE_URL: "http://127.0.0.1:4", SUPABASE_PROJECT_REF: "sandboxprojectref000" },
  },
  runApiBase: "http://127.0.0.1:1",
  loggingBase: "http://127.0.0.1:1",
};
const stageTarget: Target = {
  env: ENVIRONMENTS.stage,
  endpoints: null,
  runApiBase: "https://run.googleapis.com",
  loggingBase: "https://logging.googleapis.com",
};
const desired = () => desiredState(catalog, sandboxTarget, { commit: "abc123" });

/** What the Cloud Run API gives back: durations as objects, numbers as strings, env and labels reordered. */
function asReturned(job: RunJob, image: string): RunJob {
  const copy = structuredClone(job);
  const task = copy.template?.template;
  const container = task?.containers?.[0];
  if (!task || !container || !copy.template) throw new Error("bad fixture");
  container.image = image;
  container.env = [...(container.env ?? [])].reverse();
  task.timeout = { seconds: String((task.timeout as { seconds: number }).seconds), nanos: 0 } as never;
  copy.labels = Object.fromEntries(Object.entries(copy.labels ?? {}).reverse());
  if (copy.template.parallelism === 0) delete copy.template.parallelism;
  return copy;
}
function triggerAsReturned(trigger: Trigger): Trigger {
  return {
    ...structuredClone(trigger),
    timeZone: trigger.timeZone === "Etc/UTC" ? "UTC" : trigger.timeZone,
    httpTarget: { ...trigger.httpTarget, httpMethod: 1 as never },
    attemptDeadline: `${(trigger.attemptDeadline as { seconds: number }).seconds}s` as never,
    state: (trigger.state === "PAUSED" ? 2 : 1) as never,
  };
}

describe("desired state", () => {
  it("has a Cloud Run job per catalog job and a trigger per scheduled one, names carrying the environment", () => {
    const state = desired();
    expect(state.runJobs.size).toBe(n.jobs);
    expect(state.triggers.size).toBe(n.triggers);
    for (const name of [...state.runJobs.keys(), ...state.triggers.keys()])
      expect(name).toMatch(/-sandbox(-trigger)?$/);
  });

  it("references secrets by secretKeyRef and never carries a value for them", () => {
    const env = [...desired().runJobs.values()].flatMap(
      (job) => job.template?.template?.containers?.[0]?.env ?? [],
    );
    const secrets = env.filter((v) => v.name === "CA_ROOT_API_KEY" || v.name === "SUPABASE_ACCESS_TOKEN");
    expect(secrets.length).toBeGreaterThan(0);
    for (const secret of secrets) {
      expect(secret.value).toBeUndefined();
      expect(secret.valueSource?.secretKeyRef?.version).toBe("latest");
    }
  });

  it("gives a job only the secrets of what it uses", () => {
    const state = desired();
    const envNames = (job: string) =>
      (
        state.runJobs.get(`projects/sandbox-project/locations/us-central1/jobs/${job}-sandbox`)?.template
          ?.template?.containers?.[0]?.env ?? []
      ).map((v) => v.name);
    expect(envNames("migrate")).toContain("SUPABASE_ACCESS_TOKEN");
    expect(envNames("migrate")).not.toContain("CA_ROOT_API_KEY");
    expect(envNames("quota-cleanup")).toContain("DAYS_TO_KEEP");
    expect(envNames("quota-cleanup")).not.toContain("CA_ROOT_API_KEY");
  });
});

describe("plan", () => {
  it("shows a create for every job and trigger on an empty project", () => {
    const plan = buildPlan(desired(), { runJobs: [], triggers: [] }, sandboxTarget, {});
    expect(count(plan, "create")).toBe(n.resources);
    expect(plan.problems).toEqual([]);
  });

  it("refuses to create a job outside the sandbox without --image", () => {
    const state = desiredState(catalog, stageTarget, { commit: "abc" });
    const plan = buildPlan(state, { runJobs: [], triggers: [] }, stageTarget, {});
    expect(plan.problems.filter((problem) => problem.includes("pass --image <ref>"))).toHaveLength(n.jobs);
  });

  it("shows nothing to change when the API spells the same state differently", () => {
    const state = desired();
    const actual = {
      runJobs: [...state.runJobs.values()].map((job) => asReturned(job, "repo/jobs@sha256:1")),
      triggers: [...state.triggers.values()].map(triggerAsReturned),
    };
    const plan = buildPlan(state, actual, sandboxTarget, {});
    expect(count(plan, "unchanged")).toBe(n.resources);
  });

  it("keeps the deployed image without --image and changes it with --image", () => {
    const state = desired();
    const actual = {
      runJobs: [...state.runJobs.values()].map((job) => asReturned(job, "old@sha256:1")),
      triggers: [],
    };
    expect(count(buildPlan(state, actual, sandboxTarget, {}), "update")).toBe(0);
    const withImage = desiredState(catalog, sandboxTarget, { commit: "abc123", image: "new@sha256:2" });
    const plan = buildPlan(withImage, actual, sandboxTarget, { image: "new@sha256:2" });
    expect(count(plan, "update")).toBe(n.jobs);
    expect(plan.items[0]?.changes).toContainEqual({
      field: "image",
      from: "old@sha256:1",
      to: "new@sha256:2",
    });
  });

  it("shows a changed schedule as one update with the field diff", () => {
    const state = desired();
    const triggers = [...state.triggers.values()].map(triggerAsReturned);
    const first = triggers[0];
    if (!first) throw new Error("no trigger");
    first.schedule = "30 5 * * *";
    const runJobs = [...state.runJobs.values()].map((job) => asReturned(job, "img"));
    const plan = buildPlan(state, { runJobs, triggers }, sandboxTarget, {});
    const updates = plan.items.filter((item) => item.action === "update");
    expect(updates).toHaveLength(1);
    expect(updates[0]?.changes).toEqual([{ field: "schedule", from: "30 5 * * *", to: "0 0 * * *" }]);
  });

  it("marks only our labelled resources of this environment as orphans", () => {
    const state = desired();
    const labelled = (environment: string, managedBy = "scheduler-jobs"): RunJob => ({
      name: `projects/sandbox-project/locations/us-central1/jobs/old-${environment}-${managedBy}`,
      labels: { "managed-by": managedBy, environment },
    });
    const actual = {
      runJobs: [
        labelled("sandbox"),
        labelled("stage"),
        labelled("sandbox", "someone-else"),
        { name: "x/jobs/foreign" },
      ],
      triggers: [
        { name: "x/jobs/a", description: "old [managed-by=scheduler-jobs environment=sandbox]" },
        { name: "x/jobs/b", description: "foreign" },
      ],
    };
    const orphans = buildPlan(state, actual, sandboxTarget, {}).items.filter(
      (item) => item.action === "orphan",
    );
    expect(orphans.map((item) => item.name)).toEqual([
      "projects/sandbox-project/locations/us-central1/jobs/old-sandbox-scheduler-jobs",
      "x/jobs/a",
    ]);
  });

  it.each([
    [{ seconds: "900", nanos: 0 }, "900s"],
    ["900s", "900s"],
    [900, "900s"],
    [undefined, "600s"],
  ])("normalises the timeout %j to %s", (timeout, expected) => {
    expect(flattenRunJob({ template: { template: { timeout: timeout as never } } }).timeout).toBe(expected);
  });

  it.each([
    ["UTC", "Etc/UTC"],
    ["Etc/UTC", "Etc/UTC"],
    ["Europe/Berlin", "Europe/Berlin"],
  ])("normalises the time zone %s to %s", (zone, expected) => {
    expect(flattenTrigger({ timeZone: zone }).timeZone).toBe(expected);
  });
});

describe("arguments", () => {
  it("refuses local with the pointer to the sandbox", () => {
    expect(() => parseEnvironment("local")).toThrow(/npm run sandbox/);
  });

  it("lists the valid environments for an unknown one", () => {
    expect(() => parseEnvironment("staging")).toThrow(/test, stage, prod, sandbox/);
  });

  it("lists the valid jobs for an unknown one", () => {
    expect(() => findJob(catalog, "quota")).toThrow(/migrate, bootstrap, org-sync-all/);
  });

  it.each([
    ["bootstrap", ["--force-sync"], true],
    ["bootstrap", ["--force"], false],
    ["quota-cleanup", ["--dry-run"], true],
    ["quota-cleanup", ["--dry-run=maybe"], false],
    ["quota-cleanup", ["--dry-run=true"], false],
    ["alerts", ["--org", "acme", "--dry-run"], true],
    ["alerts", ["--org"], false],
    ["quota-reset", ["positional"], false],
  ])("checks %s %j against the catalog (valid: %s)", (job, flags, valid) => {
    const check = () => validateFlags(findJob(catalog, job), flags);
    if (valid) expect(check).not.toThrow();
    else expect(check).toThrow(/invalid flags/);
  });

  it("splits run-job's own options from the job's flags", () => {
    expect(splitArgs(["stage", "bootstrap", "--force-sync", "--no-wait", "--", "--yes"])).toMatchObject({
      env: "stage",
      job: "bootstrap",
      flags: ["--force-sync", "--yes"],
      noWait: true,
      yes: false,
    });
  });

  it("expands ~ in GOOGLE_APPLICATION_CREDENTIALS", () => {
    expect(expandHome("~/key.json", "/home/op")).toBe("/home/op/key.json");
    expect(expandHome("/abs/key.json", "/home/op")).toBe("/abs/key.json");
  });
});

describe("prod confirmation", () => {
  const prod: Target = { ...stageTarget, env: ENVIRONMENTS.prod };
  const ask = async (stdin: string[] | undefined, yes = false) => {
    const err: string[] = [];
    const io = resolveIo({
      stdin: stdin && Readable.from(stdin),
      stderr: { write: (s: string) => err.push(s) },
    });
    return { ok: await confirm(prod, io, { yes, action: "apply" }), stderr: err.join("") };
  };

  it.each([
    [["yes\n"], true],
    [["YES"], true],
    [["no\n"], false],
    [[""], false],
    [[], false],
  ])("answers %j → confirmed %s", async (stdin, expected) => {
    const { ok, stderr } = await ask(stdin);
    expect(ok).toBe(expected);
    if (!expected) expect(stderr).toContain("aborted: nothing was changed");
  });

  it("aborts without stdin and accepts --yes", async () => {
    expect((await ask(undefined)).ok).toBe(false);
    expect((await ask(undefined, true)).ok).toBe(true);
  });
});

describe("preflight", () => {
  it.each([
    [
      { GOOGLE_APPLICATION_CREDENTIALS: "~/missing-key.json", HOME: "/nonexistent-home" },
      "no file at /nonexistent-home/missing-key.json",
    ],
    [{ HOME: "/nonexistent-home" }, "gcloud auth application-default login"],
  ])("stops create-all-jobs for GCP without credentials (%j) and names the fix", async (env, message) => {
    const { cli } = await import("./support.ts");
    const result = await cli(["create-all-jobs", "stage", "--plan"], { env });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
  });
});
