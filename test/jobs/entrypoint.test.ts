/**
 * The jobs through the real entrypoint, as `npm run job -- <job>` runs them: a child process with only
 * environment variables pointing it at local fake servers. Asserts exit codes and the summary line.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { catalog } from "../../jobs/index.ts";
import { runEntrypoint } from "../../src/runtime/runner.ts";
import { FAKE_ROOT_KEY, type FakeAdminApi, makeOrgs, startFakeAdminApi } from "../helpers/fake-admin-api.ts";
import { type FakeBigQuery, startFakeBigQuery } from "../helpers/fake-bigquery.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

function runMain(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts", ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ENVIRONMENT: "sandbox", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}
const lines = (out: string) =>
  out
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

let api: FakeAdminApi;
let bq: FakeBigQuery;
beforeAll(async () => {
  [api, bq] = await Promise.all([startFakeAdminApi({ orgs: makeOrgs(5) }), startFakeBigQuery()]);
});
afterAll(async () => {
  await Promise.all([api.close(), bq.close()]);
});

describe("the entrypoint", () => {
  it("runs quota-reset against a local admin API and exits 0", async () => {
    const { code, stdout } = await runMain(["quota-reset"], {
      API_SERVICE_URL: api.url,
      CA_ROOT_API_KEY: FAKE_ROOT_KEY,
    });
    expect(code).toBe(0);
    expect(api.calls("POST /api/v1/quota/reset-daily")).toHaveLength(1);
    expect(stdout).not.toContain(FAKE_ROOT_KEY);
    expect(lines(stdout).some((l) => String(l.message).includes("5 orgs processed"))).toBe(true);
  });

  it("exits 1 when the API answers success:false (in-process runner)", async () => {
    api.script("POST /api/v1/quota/cleanup-stale", {
      body: { success: false, orgs_processed: 0, message: "locked" },
    });
    let out = "";
    const write = (chunk: string) => {
      out += chunk;
    };
    const code = await runEntrypoint(["stale-cleanup"], {
      catalog,
      env: { ENVIRONMENT: "sandbox", API_SERVICE_URL: api.url, CA_ROOT_API_KEY: FAKE_ROOT_KEY },
      stdout: { write },
      stderr: { write },
    });
    expect(code).toBe(1);
    expect(out).toContain("locked");
  });

  it("runs quota-cleanup --dry-run against a local BigQuery endpoint", async () => {
    bq.answer(() => ({ rows: [{ row_count: 7 }] }));
    const { code, stdout } = await runMain(["quota-cleanup", "--dry-run"], {
      BIGQUERY_API_URL: bq.url,
      DAYS_TO_KEEP: "30",
    });
    expect(code).toBe(0);
    expect(bq.queries).toHaveLength(1);
    expect(lines(stdout).some((l) => String(l.message).includes("Dry run: 7 rows"))).toBe(true);
  });
});
