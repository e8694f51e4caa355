/**
 * What an apply does when things go wrong halfway, against the sandbox: Ctrl-C stops starting changes, waits
 * for those in flight, lists the rest and exits 130; a trigger declared paused can never fire, even when the
 * pause after its creation fails.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { catalog } from "../../jobs/index.ts";
import { startSandbox } from "../../sandbox/index.ts";
import type { AnyJob } from "../../src/runtime/job.ts";
import { catalogCounts } from "../helpers/catalog-counts.ts";
import { cli } from "./support.ts";

type Sandbox = Awaited<ReturnType<typeof startSandbox>>;
let sandbox: Sandbox;
const parent = "projects/sandbox-project/locations/us-central1";
const env = () => sandbox.env as Record<string, string>;
const list = async (
  url: string,
  key: string,
): Promise<{ name: string; state?: string; schedule?: string }[]> =>
  ((await (await fetch(url)).json()) as Record<string, never[]>)[key] ?? [];
const runJobs = () => list(`${sandbox.urls.cloudRun}/v2/${parent}/jobs`, "jobs");
const triggers = () => list(`${sandbox.urls.scheduler}/v1/${parent}/jobs`, "jobs");
const executions = async (job: string) =>
  (await list(`${sandbox.urls.cloudRun}/v2/${parent}/jobs/${job}/executions`, "executions")).length;

beforeAll(async () => {
  sandbox = await startSandbox({
    quiet: true,
    data: false,
    entry: [process.execPath, "-e", "0"],
    scheduler: { autoTick: false, start: new Date("2026-03-10T12:00:00Z") },
  });
});
afterAll(async () => {
  await sandbox?.stop();
});

describe("an apply interrupted or half-failed", () => {
  it("Ctrl-C: starts nothing new, awaits the writes in flight, says what was not done, exits 130", async () => {
    // An orphan of ours, so that --prune has a phase after the wave of creates.
    const orphan = await fetch(`${sandbox.urls.cloudRun}/v2/${parent}/jobs?jobId=retired-sandbox`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        labels: { "managed-by": "scheduler-jobs", environment: "sandbox" },
        template: { template: { containers: [{ image: "sandbox.local/x:latest" }] } },
      }),
    });
    expect(orphan.ok).toBe(true);
    // Every Cloud Run write takes 800 ms, so the creates are all in flight when the first write reports.
    sandbox.faults.set("cloudRun", { route: "POST /v2/projects/*", latencyMs: 800 });
    const controller = new AbortController();
    let stdout = "";
    const { main } = await import("../../src/ops/cli.ts");
    const code = await main(["create-all-jobs", "sandbox", "--prune"], {
      env: env(),
      interrupt: controller.signal,
      stdout: {
        write: (text: string) => {
          stdout += text;
          if (text.includes("✓")) controller.abort();
        },
      },
      stderr: { write: () => true },
    });
    sandbox.faults.clear("cloudRun");
    const n = catalogCounts();
    expect(code).toBe(130);
    // The wave was in flight: every write of it finished (Cloud Run operations awaited); the prune never began.
    const done = stdout.split("\n").filter((line) => line.includes("✓"));
    expect(done).toHaveLength(n.resources + n.policies);
    expect(stdout).toContain(`Interrupted: ${n.resources + n.policies} done, 0 failed, 1 not started`);
    expect(stdout).toContain("not started: run-job retired-sandbox (orphan)");
    expect(await runJobs()).toHaveLength(n.jobs + 1);
    expect(await triggers()).toHaveLength(n.triggers);

    const rest = await cli(["create-all-jobs", "sandbox", "--prune"], { env: env() });
    expect(rest.stdout).toContain(`Plan: 0 to create, 0 to update, ${n.resources} unchanged, 1 orphaned`);
    expect(rest.stdout).toContain("retired-sandbox: deleted");
    expect(rest.code).toBe(0);
  });

  it("a trigger declared paused never fires, even when the pause after its creation fails", async () => {
    const paused: readonly AnyJob[] = catalog.map((job) =>
      job.name === "quota-monthly" && job.trigger
        ? { ...job, trigger: { ...job.trigger, paused: true } }
        : job,
    );
    await fetch(`${sandbox.urls.scheduler}/v1/${parent}/jobs/quota-monthly-sandbox-trigger`, {
      method: "DELETE",
    });
    sandbox.faults.set("scheduler", {
      route: `POST /v1/${parent}/jobs/quota-monthly-sandbox-trigger:pause`,
      status: 503,
    });
    const failed = await cli(["create-all-jobs", "sandbox"], { env: env(), catalog: paused });
    sandbox.faults.clear("scheduler");
    expect(failed.code).toBe(1);
    expect(failed.stdout).toContain("trigger quota-monthly-sandbox-trigger: create failed");
    // Across the 1st of the month, its slot: nothing ran.
    await sandbox.clock.set(new Date("2026-03-31T23:00:00Z"));
    await sandbox.clock.advance(2 * 3600_000);
    expect(await executions("quota-monthly-sandbox")).toBe(0);

    const fixed = await cli(["create-all-jobs", "sandbox"], { env: env(), catalog: paused });
    expect(fixed.stdout).toContain('paused: "false" → "true"');
    expect(fixed.code).toBe(0);
    const trigger = (await triggers()).find((t) => t.name.endsWith("quota-monthly-sandbox-trigger"));
    expect(trigger).toMatchObject({ state: "PAUSED", schedule: "5 0 1 * *" });
    await sandbox.clock.set(new Date("2026-04-30T23:00:00Z"));
    await sandbox.clock.advance(2 * 3600_000);
    expect(await executions("quota-monthly-sandbox")).toBe(0);
  });
});
