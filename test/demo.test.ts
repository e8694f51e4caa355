import { spawn } from "node:child_process";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { catalogCounts } from "./helpers/catalog-counts.ts";

const n = catalogCounts();

const root = resolve(import.meta.dirname, "..");

describe("the demo (npm start)", () => {
  it("provisions, releases, fires every trigger and reaches an all-OK status table", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", "demo/main.ts", "--exit"], {
      cwd: root,
      env: { ...process.env, NO_COLOR: "1", COLUMNS: "80" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      out += chunk.toString();
    });
    const code = await new Promise<number | null>((done) => child.on("exit", done));
    expect(out).toContain(`Plan: ${n.resources} to create`);
    expect(out).toMatch(/fired: [^[]*quota-reset-sandbox-trigger/);
    expect(out).toContain(`All ${n.jobs} jobs OK`);
    expect(out).toContain("Alert incidents: 1 failed run, 1 missed run, 0 from healthy jobs");
    // Its screen fits 80 columns, the commands' tables included.
    expect(out.split("\n").filter((line) => [...line].length > 80)).toEqual([]);
    expect(code).toBe(0);
  }, 120_000);
});
