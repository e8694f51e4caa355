/**
 * `create-all-jobs <env> --plan --detailed-exitcode`, Terraform's convention, so a CI job can detect drift:
 * 0 nothing to change, 2 changes, 1 any error — against the sandbox.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { catalog } from "../../jobs/index.ts";
import { startSandbox } from "../../sandbox/index.ts";
import { cli } from "./support.ts";

type Sandbox = Awaited<ReturnType<typeof startSandbox>>;
let sandbox: Sandbox;
const env = () => sandbox.env as Record<string, string>;
const plan = (extra: string[] = [], io: Parameters<typeof cli>[1] = {}) =>
  cli(["create-all-jobs", "sandbox", "--plan", "--detailed-exitcode", ...extra], { env: env(), ...io });

beforeAll(async () => {
  sandbox = await startSandbox({ quiet: true, data: false, scheduler: { autoTick: false } });
});
afterAll(async () => {
  await sandbox?.stop();
});

describe("create-all-jobs --plan --detailed-exitcode", () => {
  it("exits 2 while there are changes, 0 once applied, 2 again on drift", async () => {
    expect((await plan()).code).toBe(2);
    expect((await cli(["create-all-jobs", "sandbox"], { env: env() })).code).toBe(0);
    expect((await plan()).code).toBe(0);
    const drifted = catalog.map((job) =>
      job.name === "alerts" ? { ...job, retries: job.retries === 0 ? 1 : 0 } : job,
    );
    const result = await plan([], { catalog: drifted });
    expect(result.code).toBe(2);
    expect(result.stdout).toContain("1 to update");
  });

  it.each([
    ["a bad flag", ["--bogus"], "Unknown option"],
    ["a malformed image", ["--image", "not an image"], "is not an image reference"],
    ["an unknown environment", [], "unknown environment"],
  ])("exits 1 on %s (never 2, which means changes)", async (_what, extra, message) => {
    const argv =
      message === "unknown environment"
        ? ["create-all-jobs", "nowhere", "--plan", "--detailed-exitcode"]
        : ["create-all-jobs", "sandbox", "--plan", "--detailed-exitcode", ...extra];
    const result = await cli(argv, { env: env() });
    expect(result.stderr).toContain(message);
    expect(result.code).toBe(1);
  });

  it("exits 1 when the sandbox cannot be reached", async () => {
    const result = await plan([], { env: { ...env(), CLOUD_RUN_API_URL: "http://127.0.0.1:1" } });
    expect(result.code).toBe(1);
  });
});
