import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrationSql, planMigrations, readMigrations } from "../../src/runtime/migrations.ts";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "migration-files-"));
  const names = [
    "10_ten.sql",
    "02b_two_b.sql",
    "02_two.sql",
    "1_one.sql",
    "02a_two_a.sql",
    "02a_also_two_a.sql",
    "README.md",
  ];
  for (const name of names) await writeFile(join(dir, name), `-- ${name}\nSELECT 1;`);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("migration files", () => {
  it("orders by numeric prefix, then suffix, then name, and ignores non-SQL files", async () => {
    const files = await readMigrations(dir);
    expect(files.map((f) => f.filename)).toEqual([
      "1_one.sql",
      "02_two.sql",
      "02a_also_two_a.sql",
      "02a_two_a.sql",
      "02b_two_b.sql",
      "10_ten.sql",
    ]);
  });

  it("splits applied from pending and reports tracked files missing on disk", async () => {
    const files = await readMigrations(dir);
    const [one, two] = files;
    const plan = planMigrations(files, [
      { filename: "1_one.sql", checksum: one?.checksum ?? "" },
      { filename: "02_two.sql", checksum: two?.checksum ?? "" },
      { filename: "00_gone.sql", checksum: "x" },
    ]);
    expect(plan.applied.map((f) => f.filename)).toEqual(["1_one.sql", "02_two.sql"]);
    expect(plan.pending.map((f) => f.filename)).toEqual([
      "02a_also_two_a.sql",
      "02a_two_a.sql",
      "02b_two_b.sql",
      "10_ten.sql",
    ]);
    expect(plan.missing).toEqual(["00_gone.sql"]);
  });

  it("ends a file whose last line is a comment before adding the tracking row", async () => {
    const [file] = await readMigrations(dir);
    if (!file) throw new Error("no file");
    const sql = migrationSql({ ...file, sql: "SELECT 1 -- trailing comment" }, "migrate:o'brien");
    expect(sql).toContain("SELECT 1 -- trailing comment\n;");
    expect(sql).toContain("'migrate:o''brien'");
  });
});
