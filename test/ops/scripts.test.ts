/**
 * The wrappers themselves, end to end: spawn ./scripts/*.sh with the sandbox's environment and check exit
 * codes and output, as an operator or CI would see them.
 */
import { spawn } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SecretManagerServiceClient } from "@google-cloud/secret-manager";
import { googleAuthLibrary } from "google-gax";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { catalog } from "../../jobs/index.ts";
import { type Sandbox, startSandbox } from "../../sandbox/index.ts";
import { ENVIRONMENTS } from "../../src/runtime/environments.ts";
import { catalogCounts } from "../helpers/catalog-counts.ts";
import { createAlertChannels, provisioned } from "../helpers/provisioned.ts";
import { cli } from "./support.ts";

const n = catalogCounts();

const root = join(import.meta.dirname, "..", "..");
let sandbox: Sandbox;

/** Runs a script with only PATH/HOME from this process plus `env`; resolves with its exit code and output. */
function script(
  name: string,
  args: string[],
  env: Record<string, string>,
  input?: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(join(root, "scripts", name), args, {
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", NO_COLOR: "1", ...env },
      cwd: tmpdir(), // the wrappers work from anywhere
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input ?? "");
  });
}

beforeAll(async () => {
  sandbox = await startSandbox({ quiet: true, scheduler: { autoTick: false } });
});
afterAll(async () => {
  await sandbox?.stop();
});

describe("scripts", () => {
  it("create-all-jobs.sh applies jobs, triggers and alert policies, then --plan --json shows all unchanged", async () => {
    const { resources, policies, all } = provisioned(catalog);
    const apply = await script("create-all-jobs.sh", ["sandbox"], sandbox.env);
    expect(apply.stdout).toContain(`Plan: ${resources} to create, 0 to update, 0 unchanged, 0 orphaned`);
    expect(apply.stdout).toContain(`Alerts: ${policies} to create, 0 to update, 0 unchanged, 0 orphaned`);
    expect(apply.stdout).toContain(`Applied: ${all} done, 0 failed.`);
    expect(apply.code).toBe(0);
    const plan = await script("create-all-jobs.sh", ["sandbox", "--plan", "--json"], sandbox.env);
    expect(plan.code).toBe(0);
    const json = JSON.parse(plan.stdout);
    expect(json.summary).toEqual({ create: 0, update: 0, unchanged: resources, orphan: 0 });
    expect(json.alerts.summary).toEqual({ create: 0, update: 0, unchanged: policies, orphan: 0 });
  });

  it("list-jobs.sh prints the table of every catalog job", async () => {
    const result = await script("list-jobs.sh", ["sandbox"], sandbox.env);
    expect(result.code).toBe(0);
    for (const job of n.names) {
      expect(result.stdout).toContain(`│ ${job} `);
    }
    expect(result.stdout).toContain("NEVER RAN");
  });

  it("run-job.sh exits with the execution's result", async () => {
    const result = await script("run-job.sh", ["sandbox", "stale-cleanup"], sandbox.env);
    expect(result.stdout).toMatch(/^stale-cleanup-sandbox-\S+: SUCCEEDED in/m);
    expect(result.code).toBe(0);
  });

  it.each([
    [
      "run-job.sh",
      ["sandbox", "nope"],
      /unknown job "nope": valid jobs are migrate, bootstrap, org-sync-all/,
    ],
    [
      "run-job.sh",
      ["sandbox", "bootstrap", "--recreate"],
      /--recreate: unknown flag \(job "bootstrap" accepts --force-fresh, --force-sync\)/,
    ],
    [
      "run-job.sh",
      ["local", "quota-reset"],
      /"local" is not an environment: start the sandbox with `npm run sandbox`/,
    ],
    [
      "list-jobs.sh",
      ["staging"],
      /unknown environment "staging": valid environments are test, stage, prod, sandbox/,
    ],
    ["release.sh", ["sandbox", "--from", "alerts"], /--from must be one of migrate, bootstrap, org-sync-all/],
  ])("%s %j exits 2 and says what is valid", async (name, args, message) => {
    const result = await script(name, args, sandbox.env);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
  });

  it.each(["create-all-jobs.sh", "run-job.sh", "list-jobs.sh", "release.sh"])(
    "%s --help exits 0 with usage",
    async (name) => {
      const result = await script(name, ["--help"], {});
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/^usage: /);
    },
  );

  it("`echo no | create-all-jobs.sh prod` aborts with nothing changed", async () => {
    const secrets = new SecretManagerServiceClient({
      apiEndpoint: "127.0.0.1",
      port: Number(new URL(sandbox.env.SECRET_MANAGER_API_URL as string).port),
      protocol: "http",
      fallback: true,
      auth: new googleAuthLibrary.GoogleAuth({ authClient: new googleAuthLibrary.PassThroughClient() }),
    });
    for (const secretId of ["ca-root-api-key-prod", "supabase-access-token-prod"]) {
      await secrets.createSecret({
        parent: "projects/cloudact-prod",
        secretId,
        secret: { replication: { automatic: {} } },
      });
    }
    await secrets.close();
    await createAlertChannels(sandbox.urls.monitoring, ENVIRONMENTS.prod);
    const result = await script(
      "create-all-jobs.sh",
      ["prod", "--image", `repo/jobs@sha256:${"0f".repeat(32)}`],
      sandbox.env,
      "no\n",
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("aborted: nothing was changed");
    const after = await cli(["list-jobs", "prod", "--json"], { env: sandbox.env });
    const rows = JSON.parse(after.stdout) as { verdict: string; lastExecution: unknown }[];
    expect(rows.every((row) => row.verdict === "DRIFTED" && row.lastExecution === null)).toBe(true);
    const listed = await fetch(`${sandbox.urls.monitoring}/v3/projects/cloudact-prod/alertPolicies`);
    expect(((await listed.json()) as { alertPolicies: unknown[] }).alertPolicies).toEqual([]);
  });
});

describe("finding the sandbox", () => {
  it("reads .sandbox/endpoints.json when the environment has no endpoints", async () => {
    const dir = await mkdtemp(join(tmpdir(), "ops-"));
    try {
      await mkdir(join(dir, ".sandbox"));
      await writeFile(
        join(dir, ".sandbox", "endpoints.json"),
        JSON.stringify({ env: sandbox.env, pid: process.pid }),
      );
      const result = await cli(["list-jobs", "sandbox", "--json"], { env: {}, cwd: dir });
      expect(result.code).toBe(0);
      expect(JSON.parse(result.stdout)).toHaveLength(n.jobs);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("says the endpoints file is stale when the sandbox that wrote it has stopped", async () => {
    const dir = await mkdtemp(join(tmpdir(), "ops-"));
    try {
      await mkdir(join(dir, ".sandbox"));
      // A pid far above any pid_max in use: no such process.
      await writeFile(
        join(dir, ".sandbox", "endpoints.json"),
        JSON.stringify({ env: sandbox.env, pid: 2 ** 30 }),
      );
      const result = await cli(["list-jobs", "sandbox"], { env: {}, cwd: dir });
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(
        /is stale: the sandbox \(pid \d+\) has stopped; start the sandbox: npm run sandbox/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("says how to start the sandbox when it cannot be found", async () => {
    const dir = await mkdtemp(join(tmpdir(), "ops-"));
    try {
      const result = await cli(["list-jobs", "sandbox"], { env: {}, cwd: dir });
      expect(result.code).toBe(2);
      expect(result.stderr).toContain("start the sandbox: npm run sandbox");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
