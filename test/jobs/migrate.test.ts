import { cp, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import migrate from "../../jobs/manual/migrate.ts";
import { PermanentError } from "../../src/runtime/errors.ts";
import { MIGRATION_LOCK_KEY, readMigrations } from "../../src/runtime/migrations.ts";
import { runJob } from "../helpers/context.ts";
import {
  FAKE_PROJECT_REF,
  FAKE_SUPABASE_TOKEN,
  type FakeSupabase,
  startFakeSupabase,
} from "../helpers/fake-supabase.ts";

const SHIPPED = new URL("../../migrations/", import.meta.url);
let supabase: FakeSupabase;
let dir: string;
const env = () => ({
  SUPABASE_API_URL: supabase.url,
  SUPABASE_ACCESS_TOKEN: FAKE_SUPABASE_TOKEN,
  SUPABASE_PROJECT_REF: FAKE_PROJECT_REF,
});
const run = (argv: string[] = []) => runJob(migrate, { env: env(), argv: ["--dir", dir, ...argv] });
const tracked = async () =>
  (
    await supabase.db.query<{ filename: string; checksum: string }>(
      "SELECT filename, checksum FROM schema_migrations ORDER BY applied_at, filename",
    )
  ).rows;
const tableExists = async (name: string) =>
  (await supabase.db.query<{ t: string | null }>(`SELECT to_regclass('${name}')::text AS t`)).rows[0]?.t !==
  null;

beforeAll(async () => {
  supabase = await startFakeSupabase();
});
afterAll(async () => {
  await supabase.close();
});
beforeEach(async () => {
  await supabase.reset();
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = await mkdtemp(join(tmpdir(), "migrations-"));
  await cp(SHIPPED, dir, { recursive: true });
});

describe("migrate", () => {
  it("applies the shipped migrations in order, 02a right after 02, with full sha256 checksums", async () => {
    const { outcome } = await run();
    expect(outcome?.status).toBe("succeeded");
    const files = await readMigrations(dir);
    expect(files.map((f) => f.filename)).toEqual([
      "01_profiles.sql",
      "02_org_members.sql",
      "02a_org_members_role_check.sql",
      "03_storage_buckets.sql",
    ]);
    expect(await tracked()).toEqual(files.map((f) => ({ filename: f.filename, checksum: f.checksum })));
    expect(files.every((f) => /^[0-9a-f]{64}$/.test(f.checksum))).toBe(true);
    expect(await tableExists("public.profiles")).toBe(true);
    const buckets = await supabase.db.query("SELECT id FROM storage.buckets");
    expect(buckets.rows).toEqual([{ id: "org-exports" }]);
  });

  it("lets a signed-in user read only their own profile (RLS with auth.uid())", async () => {
    await run();
    const db = supabase.db;
    const a = "00000000-0000-0000-0000-00000000000a";
    const b = "00000000-0000-0000-0000-00000000000b";
    await db.exec(`INSERT INTO auth.users (id, email) VALUES ('${a}', 'a@x.test'), ('${b}', 'b@x.test');
      INSERT INTO public.profiles (id, display_name) VALUES ('${a}', 'A'), ('${b}', 'B');`);
    const asUser = await db.transaction(async (tx) => {
      await tx.exec(
        `SET LOCAL ROLE authenticated; SELECT set_config('request.jwt.claim.sub', '${a}', true);`,
      );
      return (await tx.query<{ display_name: string }>("SELECT display_name FROM public.profiles")).rows;
    });
    expect(asUser).toEqual([{ display_name: "A" }]);
  });

  it("sends each file with its tracking row as one transaction under the advisory lock", async () => {
    await run();
    const applies = supabase.sql().filter((s) => s.includes("INSERT INTO public.schema_migrations"));
    expect(applies).toHaveLength(4);
    for (const sql of applies) {
      expect(sql.startsWith("BEGIN;")).toBe(true);
      expect(sql).toContain(`pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`);
      expect(sql.trimEnd().endsWith("COMMIT;")).toBe(true);
    }
  });

  it("applies nothing on a second run", async () => {
    await run();
    const before = supabase.requests.length;
    const { outcome } = await run();
    expect(outcome?.message).toBe("Up to date: all 4 migrations already applied");
    const writes = supabase
      .sql()
      .slice(before)
      .filter((s) => s.includes("BEGIN;"));
    expect(writes).toEqual([]);
  });

  it("applies only a file added later, including a suffix variant", async () => {
    await run();
    await writeFile(
      join(dir, "03a_profiles_locale.sql"),
      "ALTER TABLE public.profiles ADD COLUMN locale text;\n",
    );
    const { outcome } = await run();
    expect(outcome?.summary).toMatchObject({ applied: ["03a_profiles_locale.sql"] });
    expect((await tracked()).map((r) => r.filename).at(-1)).toBe("03a_profiles_locale.sql");
  });

  it("fails, naming the file, when an applied migration changed on disk, and applies nothing", async () => {
    await run();
    await writeFile(join(dir, "02_org_members.sql"), "-- edited\nSELECT 1;\n");
    await writeFile(join(dir, "04_new.sql"), "CREATE TABLE public.new_thing (id int);");
    const { error } = await run();
    expect(error).toBeInstanceOf(PermanentError);
    expect((error as Error).message).toContain("02_org_members.sql");
    expect(await tableExists("public.new_thing")).toBe(false);
  });

  it("--dry-run lists pending files and changes nothing (not even the tracking table)", async () => {
    const { outcome } = await run(["--dry-run"]);
    expect(outcome?.summary).toMatchObject({
      dry_run: true,
      pending: [
        "01_profiles.sql",
        "02_org_members.sql",
        "02a_org_members_role_check.sql",
        "03_storage_buckets.sql",
      ],
    });
    expect(await tableExists("public.schema_migrations")).toBe(false);
    expect(await tableExists("public.profiles")).toBe(false);
  });

  it("rolls back a failing file together with its tracking row, keeping the files before it", async () => {
    await writeFile(
      join(dir, "04_broken.sql"),
      "CREATE TABLE public.half_done (id int);\nSELECT no_such_column FROM public.profiles;\n",
    );
    const { error } = await run();
    expect(error).toBeInstanceOf(PermanentError);
    expect((error as Error).message).toContain("migration 04_broken.sql failed and was rolled back");
    expect((await tracked()).map((r) => r.filename)).toEqual([
      "01_profiles.sql",
      "02_org_members.sql",
      "02a_org_members_role_check.sql",
      "03_storage_buckets.sql",
    ]);
    expect(await tableExists("public.half_done")).toBe(false);
  });

  it("treats a file applied meanwhile by a concurrent run as done, not as a failure", async () => {
    // Simulate the other run winning the lock: the tracking row exists before our request arrives.
    await supabase.db.exec(
      "CREATE TABLE public.schema_migrations (id serial PRIMARY KEY, filename varchar(255) NOT NULL UNIQUE, applied_at timestamptz DEFAULT now(), checksum varchar(64), execution_time_ms integer, applied_by varchar(255) DEFAULT current_user)",
    );
    const [first] = await readMigrations(dir);
    supabase.queue(
      { status: 201, body: [{ exists: false }] }, // our plan was read before the other run committed
    );
    await supabase.db.query(
      "INSERT INTO public.schema_migrations (filename, checksum, applied_by) VALUES ($1, $2, 'migrate:other-run')",
      [first?.filename, first?.checksum],
    );
    await supabase.db.exec(first?.sql ?? "");
    const { outcome, logs } = await run();
    expect(outcome?.status).toBe("succeeded");
    expect(
      logs.some(
        (l) =>
          l.message === "Migration applied meanwhile by a concurrent run" && l.filename === "01_profiles.sql",
      ),
    ).toBe(true);
    expect((await tracked()).filter((r) => r.filename === "01_profiles.sql")).toHaveLength(1);
  });

  it("on SIGTERM finishes the file in flight, applies no further file, and a re-run completes the rest", async () => {
    const controller = new AbortController();
    supabase.onQuery((sql) => {
      if (sql.includes("INSERT INTO public.schema_migrations")) controller.abort();
    });
    const { outcome, logs } = await runJob(migrate, {
      env: env(),
      argv: ["--dir", dir],
      signal: controller.signal,
    });
    supabase.onQuery(undefined);
    expect(outcome?.status).toBe("failed");
    expect(outcome?.summary).toMatchObject({
      applied: ["01_profiles.sql"],
      in_doubt: null,
      not_applied: ["02_org_members.sql", "02a_org_members_role_check.sql", "03_storage_buckets.sql"],
    });
    expect((await tracked()).map((r) => r.filename)).toEqual(["01_profiles.sql"]);
    expect(logs.some((l) => l.severity === "WARNING" && String(l.message).includes("termination"))).toBe(
      true,
    );
    const again = await run();
    expect(again.outcome?.status).toBe("succeeded");
    expect((await tracked()).map((r) => r.filename)).toHaveLength(4);
  });

  it("waits as the API asks on a 429 (60 s by default) and then applies", async () => {
    supabase.queue({ status: 429, body: { message: "rate limited" } });
    const { outcome, sleeps } = await run();
    expect(outcome?.status).toBe("succeeded");
    expect(sleeps).toHaveLength(1); // a full minute, never less (at most 5 s of spread)
    expect(sleeps[0]).toBeGreaterThanOrEqual(60_000);
    expect(sleeps[0]).toBeLessThanOrEqual(65_000);
  });

  it("treats an error object in a 201 body as a failure", async () => {
    supabase.queue({ status: 201, body: { error: "permission denied for schema public" } });
    const { error } = await run();
    expect(error).toBeInstanceOf(PermanentError);
    expect((error as Error).message).toContain("permission denied for schema public");
  });

  it("refuses a .sql file that does not follow the naming rule", async () => {
    await writeFile(join(dir, "profiles_fix.sql"), "SELECT 1;");
    const { error } = await run(["--dry-run"]);
    expect((error as Error).message).toContain("profiles_fix.sql");
    expect(await readdir(dir)).toContain("profiles_fix.sql");
  });
});
