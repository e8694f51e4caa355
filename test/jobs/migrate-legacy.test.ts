/**
 * migrate against the sandbox's Supabase in the state the old tools left production (CONTRACT §2): their
 * tracking table, rows in every checksum form, files that record themselves; plus what must be refused
 * before anything is sent, and SQL errors as 400 or 500.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import migrate from "../../jobs/manual/migrate.ts";
import { createFaults } from "../../sandbox/faults.ts";
import { LEGACY_ROWS, LEGACY_SQL, SELF_RECORDED_CHECKSUM } from "../../sandbox/supabase/legacy.ts";
import { type SupabaseService, startSupabaseApi } from "../../sandbox/supabase/server.ts";
import { ConfigError, PermanentError } from "../../src/runtime/errors.ts";
import { readMigrations } from "../../src/runtime/migrations.ts";
import { runJob } from "../helpers/context.ts";

const TOKEN = "sbp_legacy_test";
const REF = "legacyprojectref0000";
let sb: SupabaseService;
let requests: number;
let dir: string;

/** The old system's files as they are on disk today (content changed since the old tools ran them). */
const LEGACY_FILES = {
  [LEGACY_ROWS.fullSha256]:
    "CREATE TABLE IF NOT EXISTS schema_migrations (id serial, filename varchar(255) NOT NULL UNIQUE);\n",
  [LEGACY_ROWS.sha256Prefix16]:
    "-- edited after it was applied\nCREATE TABLE IF NOT EXISTS public.organizations (id uuid);\n",
  [LEGACY_ROWS.nullChecksum]: "SELECT 1;\n",
  [LEGACY_ROWS.recordsItself]: `ALTER TABLE public.organizations ADD COLUMN IF NOT EXISTS integration_openai_enabled boolean;
INSERT INTO schema_migrations (filename, checksum) VALUES ('${LEGACY_ROWS.recordsItself}', '${SELF_RECORDED_CHECKSUM}')
ON CONFLICT (filename) DO NOTHING;\n`,
};
const SELF_RECORDING = `ALTER TABLE public.organizations ADD COLUMN IF NOT EXISTS logo_url text;
INSERT INTO schema_migrations (filename, checksum) VALUES ('12_org_logo_url.sql', 'org-logo-url-v1')
ON CONFLICT (filename) DO NOTHING;\n`;

const env = () => ({
  SUPABASE_API_URL: sb.url,
  SUPABASE_ACCESS_TOKEN: TOKEN,
  SUPABASE_PROJECT_REF: REF,
});
const run = (argv: string[] = ["--dir", dir]) => runJob(migrate, { env: env(), argv });
const tracked = () =>
  sb.sql<{ filename: string; checksum: string | null; applied_by: string }>(
    "SELECT filename, checksum, applied_by FROM schema_migrations ORDER BY filename",
  );

async function files(extra: Record<string, string> = {}) {
  for (const [name, sql] of Object.entries({ ...LEGACY_FILES, ...extra }))
    await writeFile(join(dir, name), sql);
}

// One database for the file (PGlite takes seconds to start); each test puts the legacy state back.
beforeAll(async () => {
  sb = await startSupabaseApi({
    token: TOKEN,
    projectRef: REF,
    faults: createFaults(),
    state: "legacy",
    log: () => void requests++,
  });
});
afterAll(() => sb?.close());
beforeEach(async () => {
  await sb.sql(
    `DROP TABLE IF EXISTS public.schema_migrations, public.organizations CASCADE;
     DROP FUNCTION IF EXISTS public.user_org_slugs(); ${LEGACY_SQL}`,
  );
  sb.setSqlErrorStatus(400);
  requests = 0;
  dir = await mkdtemp(join(tmpdir(), "migrate-legacy-"));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe("migrate on the production database as the old tools left it", () => {
  it("adopts the old table: legacy rows count as applied, files that record themselves work, no second table", async () => {
    await files({
      "12_org_logo_url.sql": SELF_RECORDING,
      "13_org_locale.sql": "ALTER TABLE public.organizations ADD COLUMN locale text;\n",
    });
    const before = await tracked();
    const { outcome, error } = await run();
    expect(error).toBeUndefined();
    expect(outcome?.summary).toMatchObject({
      applied: ["12_org_logo_url.sql", "13_org_locale.sql"],
      adopted: Object.values(LEGACY_ROWS).sort(),
    });
    const after = await tracked();
    // Legacy rows untouched, whatever their checksum form; ours carry the sha256 and the job's marker.
    expect(after.filter((r) => before.some((b) => b.filename === r.filename))).toEqual(before);
    const sums = new Map((await readMigrations(dir)).map((f) => [f.filename, f.checksum]));
    expect(after.filter((r) => r.filename >= "12")).toEqual([
      {
        filename: "12_org_logo_url.sql",
        checksum: sums.get("12_org_logo_url.sql"),
        applied_by: "migrate:local",
      },
      { filename: "13_org_locale.sql", checksum: sums.get("13_org_locale.sql"), applied_by: "migrate:local" },
    ]);
    expect(
      await sb.sql("SELECT relname FROM pg_class WHERE relname LIKE '%migrations' AND relkind = 'r'"),
    ).toEqual([{ relname: "schema_migrations" }]);
    // The old files' own inserts still work: nothing NOT NULL beyond filename.
    const notNull = await sb.sql<{ column_name: string }>(
      "SELECT column_name FROM information_schema.columns WHERE table_name = 'schema_migrations' AND is_nullable = 'NO' ORDER BY 1",
    );
    expect(notNull.map((c) => c.column_name)).toEqual(["filename", "id"]);
    await sb.sql(
      "INSERT INTO schema_migrations (filename, checksum) VALUES ('44_next_old_style.sql', 'v1') ON CONFLICT (filename) DO NOTHING",
    );
  });

  it("a second run applies nothing, sends no write, and verifies only its own rows", async () => {
    await files({ "12_org_logo_url.sql": SELF_RECORDING });
    await run();
    requests = 0;
    const again = await run();
    expect(again.outcome?.message).toBe("Up to date: all 5 migrations already applied");
    expect(requests).toBe(2); // does the table exist; its rows
    await writeFile(join(dir, "12_org_logo_url.sql"), `-- edited\n${SELF_RECORDING}`);
    const changed = await run();
    expect(changed.error).toBeInstanceOf(PermanentError);
    expect((changed.error as Error).message).toContain("12_org_logo_url.sql");
    expect((changed.error as Error).message).not.toContain(LEGACY_ROWS.sha256Prefix16);
  });

  it.each([400, 500] as const)(
    "reports an SQL error answered with %i with the database's message, sent once",
    async (status) => {
      sb.setSqlErrorStatus(status);
      await files({ "12_broken.sql": "SELECT no_such_column FROM public.organizations;\n" });
      const { error } = await run();
      expect(error).toBeInstanceOf(PermanentError);
      const message = (error as Error).message;
      expect(message).toContain("migration 12_broken.sql failed and was rolled back");
      expect(message).toContain(`status ${status}`);
      expect(message).toContain('column "no_such_column" does not exist');
      expect(message).not.toMatch(/no answer|gave up/);
      expect(requests).toBe(4); // exists, rows, tracking table, the file once
      expect((await tracked()).map((r) => r.filename)).not.toContain("12_broken.sql");
    },
  );
});

describe("refused before anything is sent (exit 2)", () => {
  it.each([
    ["a missing --dir", async () => ["--dir", join(dir, "nope")], /does not exist/],
    [
      "a --dir that is a file",
      async () => {
        await writeFile(join(dir, "01_a.sql"), "SELECT 1;");
        return ["--dir", join(dir, "01_a.sql")];
      },
      /not a directory/,
    ],
    ["an empty --dir", async () => ["--dir", dir], /holds no \.sql/],
    [
      "a one-digit prefix",
      async () => {
        await writeFile(join(dir, "1_x.sql"), "SELECT 1;");
        return ["--dir", dir];
      },
      /1_x\.sql: rename it/,
    ],
    [
      "two files numbered 02",
      async () => {
        await writeFile(join(dir, "02_a.sql"), "SELECT 1;");
        await writeFile(join(dir, "02_b.sql"), "SELECT 1;");
        return ["--dir", dir];
      },
      /share the prefix 02/,
    ],
  ])("%s", async (_case, argv, expected) => {
    const { error } = await run(await argv());
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(expected);
    expect(requests).toBe(0);
  });
});
