/**
 * Every screen an operator reads fits 80 columns when no width is known (a pipe, CI, a plain terminal):
 * the create-all-jobs plan and apply, release's summary and list-jobs; `--wide` and a wider COLUMNS show
 * list-jobs in full. (The demo's screen is checked in test/demo.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Sandbox, startSandbox } from "../../sandbox/index.ts";
import { fitTable, textWidth, wrapLine } from "../../src/ops/screen.ts";
import { catalogCounts } from "../helpers/catalog-counts.ts";
import { cli } from "./support.ts";

const n = catalogCounts();
let sandbox: Sandbox;

beforeAll(async () => {
  sandbox = await startSandbox({ quiet: true, scheduler: { autoTick: false } });
});
afterAll(async () => {
  await sandbox?.stop();
});

const env = (extra: Record<string, string> = {}) => ({
  ...(sandbox.env as Record<string, string>),
  ...extra,
});
/** The lines wider than `width` (none expected). */
const wider = (text: string, width = 80) => text.split("\n").filter((line) => [...line].length > width);

describe("screens at 80 columns", () => {
  it("the plan and the apply of create-all-jobs", async () => {
    const plan = await cli(["create-all-jobs", "sandbox", "--plan"], { env: env() });
    expect(plan.code).toBe(0);
    expect(plan.stdout).toContain(`Plan: ${n.resources} to create`);
    expect(wider(plan.stdout + plan.stderr)).toEqual([]);
    const apply = await cli(["create-all-jobs", "sandbox"], { env: env() });
    expect(apply.code).toBe(0);
    expect(wider(apply.stdout + apply.stderr)).toEqual([]);
  });

  it("release's progress and summary", async () => {
    const release = await cli(["release", "sandbox"], { env: env() });
    expect(release.code).toBe(0);
    expect(release.stdout).toMatch(/│ org-sync-all │ succeeded │/);
    expect(wider(release.stdout + release.stderr)).toEqual([]);
  });

  it("list-jobs: narrow by default, every column with --wide or a terminal wide enough", async () => {
    const narrow = await cli(["list-jobs", "sandbox"], { env: env() });
    expect(narrow.code).toBe(0);
    expect(wider(narrow.stdout + narrow.stderr)).toEqual([]);
    for (const job of n.names) expect(narrow.stdout).toMatch(new RegExp(`^│ ${job} +│`, "m"));
    expect(narrow.stdout).toMatch(/│ migrate +│ manual +│ — +│ ok \d\d-\d\d \d\d:\d\d [\d.]+s +│ OK +│/);

    const wide = await cli(["list-jobs", "sandbox", "--wide"], { env: env() });
    expect(wide.stdout).toContain("│ category │");
    expect(wide.stdout).toContain("(Etc/UTC)");
    expect(textWidth(wide.stdout)).toBeGreaterThan(80);

    const roomy = await cli(["list-jobs", "sandbox"], { env: env({ COLUMNS: "200" }) });
    expect(roomy.stdout.split("\n").slice(1, -1)).toEqual(wide.stdout.split("\n").slice(1, -1));

    const tight = await cli(["list-jobs", "sandbox"], { env: env({ COLUMNS: "64" }) });
    expect(wider(tight.stdout, 64)).toEqual([]);
  });
});

describe("fitting text", () => {
  it("wraps a table's widest column rather than the terminal wrapping its rows", () => {
    const rows = [["quota-cleanup", "succeeded 2026-11-30T19:38:10Z (2.6s) and more words here"]];
    const table = fitTable(["job", "last"], rows, 40);
    expect(wider(table, 40)).toEqual([]);
    expect(table).toContain("quota-cleanup");
  });

  it("breaks a line at spaces, keeping its indent, and leaves a word longer than a line whole", () => {
    expect(wrapLine("  fired: a-trigger, b-trigger", 20)).toEqual(["  fired: a-trigger,", "    b-trigger"]);
    const url = `https://console.cloud.google.com/${"x".repeat(80)}`;
    expect(wrapLine(`logs: ${url}`, 40)).toEqual(["logs:", `  ${url}`]);
  });
});
