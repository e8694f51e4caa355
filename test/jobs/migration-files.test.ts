import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, PermanentError } from "../../src/runtime/errors.ts";
import {
  type AppliedMigration,
  migrationSql,
  planMigrations,
  readMigrations,
} from "../../src/runtime/migrations.ts";

let root: string;
let n = 0;
/** A fresh folder holding `names` (a name ending in "/" is a sub-folder). */
async function folder(names: string[]): Promise<string> {
  const dir = join(root, `case-${n++}`);
  await mkdir(dir);
  for (const name of names) {
    if (name.endsWith("/")) await mkdir(join(dir, name));
    else await writeFile(join(dir, name), `-- ${name}\nSELECT 1;`);
  }
  return dir;
}
const refusal = async (dir: string) => {
  const error = await readMigrations(dir).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ConfigError);
  return (error as Error).message;
};

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "migration-files-"));
});
afterAll(() => rm(root, { recursive: true, force: true }));

describe("migration files", () => {
  it("orders by numeric prefix, then suffix, and ignores non-SQL files and folders", async () => {
    const dir = await folder([
      "10_ten.sql",
      "02b_two_b.sql",
      "02_two.sql",
      "01_one.sql",
      "02a_two_a.sql",
      "README.md",
      "operations/",
    ]);
    expect((await readMigrations(dir)).map((f) => f.filename)).toEqual([
      "01_one.sql",
      "02_two.sql",
      "02a_two_a.sql",
      "02b_two_b.sql",
      "10_ten.sql",
    ]);
  });

  it.each([
    ["a one-digit prefix", ["1_x.sql", "02_y.sql"], ["1_x.sql", "01_x.sql"]],
    ["a three-digit prefix", ["001_x.sql"], ["001_x.sql", "01_x.sql"]],
    ["no prefix", ["profiles_fix.sql"], ["profiles_fix.sql", "NN_profiles_fix.sql"]],
    ["upper case", ["04_Fix.SQL"], ["04_Fix.SQL", "04_fix.sql"]],
    [
      "two 02_ files",
      ["02_a.sql", "02_b.sql"],
      ["02_a.sql, 02_b.sql share the prefix 02", "02_b.sql → 02a_b.sql"],
    ],
    [
      "two 02a_ files next to 02b",
      ["02a_x.sql", "02a_y.sql", "02b_z.sql"],
      ["share the prefix 02a", "02a_y.sql → 02c_y.sql"],
    ],
  ])("refuses %s, naming the file and a fix", async (_case, names, expected) => {
    const message = await refusal(await folder(names));
    for (const part of expected) expect(message).toContain(part);
  });

  it("reports every naming problem at once", async () => {
    const message = await refusal(await folder(["1_x.sql", "03_a.sql", "03_b.sql", "bad.sql"]));
    expect(message).toMatch(/1_x\.sql[\s\S]*bad\.sql[\s\S]*03_a\.sql, 03_b\.sql/);
  });

  it.each([
    ["does not exist", async () => join(root, "nope"), /does not exist/],
    [
      "is a file",
      async () => {
        const dir = await folder(["01_a.sql"]);
        return join(dir, "01_a.sql");
      },
      /is a file, not a directory/,
    ],
    ["is empty", () => folder([]), /holds no \.sql migration files/],
    ["holds no .sql file", () => folder(["README.md", "operations/"]), /holds no \.sql migration files/],
  ])("refuses a --dir that %s, saying how to fix it", async (_case, make, expected) => {
    const message = await refusal(await make());
    expect(message).toMatch(expected);
    expect(message).toContain("pass --dir <folder holding NN_name.sql files>");
  });
});

describe("plan against schema_migrations", () => {
  const files = async () => readMigrations(await folder(["01_one.sql", "02_two.sql", "03_three.sql"]));
  const ours = (filename: string, checksum: string): AppliedMigration => ({ filename, checksum, ours: true });
  const legacy = (filename: string, checksum: string | null): AppliedMigration => ({
    filename,
    checksum,
    ours: false,
  });

  it("counts legacy rows as applied whatever their checksum form, without verifying it", async () => {
    const f = await files();
    const plan = planMigrations(f, [
      legacy("01_one.sql", "a".repeat(64)), // the old migrate.sh: sha256 of another version of the file
      legacy("02_two.sql", "9c1e4a7be2f05d38"), // the old Python job: 16 hex
      legacy("00_gone.sql", null),
    ]);
    expect(plan.applied.map((x) => x.filename)).toEqual(["01_one.sql", "02_two.sql"]);
    expect(plan.adopted).toEqual(["01_one.sql", "02_two.sql"]);
    expect(plan.pending.map((x) => x.filename)).toEqual(["03_three.sql"]);
    expect(plan.missing).toEqual(["00_gone.sql"]);
  });

  it("verifies the checksum of a row this job wrote", async () => {
    const f = await files();
    expect(() => planMigrations(f, [ours("01_one.sql", f[0]?.checksum ?? "")])).not.toThrow();
    const error = (() => {
      try {
        planMigrations(f, [ours("02_two.sql", "b".repeat(64))]);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(PermanentError);
    expect((error as Error).message).toContain("02_two.sql");
  });

  it("ends a file whose last line is a comment, and upserts its row over one the file wrote itself", async () => {
    const [file] = await files();
    if (!file) throw new Error("no file");
    const sql = migrationSql({ ...file, sql: "SELECT 1 -- trailing comment" }, "migrate:o'brien");
    expect(sql).toContain("SELECT 1 -- trailing comment\n;");
    expect(sql).toContain("'migrate:o''brien'");
    expect(sql).toContain("ON CONFLICT (filename) DO UPDATE SET checksum = EXCLUDED.checksum");
  });
});
