/**
 * migrate against the sandbox's Supabase database in the LEGACY state (as the old tools left production:
 * their tracking table, rows in every checksum form, and one of our files already applied by the old
 * migrate.sh from an older version of it), with a folder holding the shipped files plus one that records
 * itself: run twice, and killed (or stopped) after its first migration was committed then retried. The
 * end state is compared with one clean run on another database started the same way: schema_migrations
 * (file and checksum; its ids, timestamps and run name are per run by nature) and every object the
 * migrations make (tables, columns, rows, constraints, indexes, policies, grants).
 */
import { cp, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { PGlite } from "@electric-sql/pglite";
import { afterAll, beforeAll, expect, it } from "vitest";
import { LEGACY_SQL } from "../../sandbox/supabase/legacy.ts";
import { readMigrations } from "../../src/runtime/migrations.ts";
import {
  fingerprint,
  JOB_TEST_TIMEOUT_MS,
  killWhen,
  rows,
  runJobOk,
  type Stack,
  startStack,
  waitFor,
} from "./helpers.ts";

async function trackingExists(db: PGlite): Promise<boolean> {
  const [r] = await rows<{ ok: boolean }>(
    db,
    "SELECT to_regclass('public.schema_migrations') IS NOT NULL AS ok",
  );
  return r?.ok === true;
}

const SHIPPED = new URL("../../migrations/", import.meta.url);
/** The shipped files plus one that inserts its own tracking row, as several old files do. */
let MIGRATIONS: string;
const RECORDS_ITSELF = `ALTER TABLE public.org_members ADD COLUMN IF NOT EXISTS invited_by uuid;
INSERT INTO schema_migrations (filename, checksum) VALUES ('04_records_itself.sql', 'invited-by-v1')
ON CONFLICT (filename) DO NOTHING;\n`;
/** Values that are per run by nature: the tracking row's id (a sequence), when/how long/who, `DEFAULT now()` columns. */
const PER_RUN = ["id", "applied_at", "execution_time_ms", "applied_by", "created_at", "updated_at"];

/** Puts a fresh sandbox database in the legacy state; 01_profiles.sql applied by the old migrate.sh. */
async function legacy(db: PGlite) {
  const [profiles] = await readMigrations(SHIPPED);
  await db.exec(`${LEGACY_SQL}\n${profiles?.sql}\n;
    INSERT INTO schema_migrations (filename, checksum, execution_time_ms)
    VALUES ('01_profiles.sql', '${"e3b0c442".repeat(8)}', 9);`);
}

/** schema_migrations without its per-run columns; [] before the first run created the table. */
async function applied(db: PGlite) {
  if (!(await trackingExists(db))) return [];
  return rows(db, "SELECT filename, checksum FROM public.schema_migrations ORDER BY 1");
}

/** What migrate leaves behind, minus what is per run by nature (when, how long, which execution). */
async function snapshot(db: PGlite) {
  return {
    applied: await applied(db),
    policies: await rows(
      db,
      `SELECT schemaname, tablename, policyname, cmd, roles::text, qual, with_check FROM pg_policies ORDER BY 1, 2, 3`,
    ),
    constraints: await rows(
      db,
      `SELECT n.nspname, c.conrelid::regclass::text AS rel, c.conname, pg_get_constraintdef(c.oid) AS def
       FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
       WHERE n.nspname IN ('public', 'storage', 'auth') ORDER BY 1, 2, 3`,
    ),
    indexes: await rows(
      db,
      "SELECT schemaname, tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1, 2, 3",
    ),
    grants: await rows(
      db,
      `SELECT table_schema, table_name, grantee, privilege_type FROM information_schema.role_table_grants
       WHERE table_schema = 'public' ORDER BY 1, 2, 3, 4`,
    ),
    rls: await rows(
      db,
      `SELECT c.relname, c.relrowsecurity FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = 'public' AND c.relkind = 'r' ORDER BY 1`,
    ),
    data: await fingerprint(db, PER_RUN),
  };
}

/** Done: every file on disk tracked once, with the checksum of its bytes where this job applied it. */
async function expectAllApplied(db: PGlite) {
  const files = await readMigrations(MIGRATIONS);
  const ours = await rows<{ filename: string; checksum: string }>(
    db,
    "SELECT filename, checksum FROM public.schema_migrations WHERE applied_by LIKE 'migrate:%' ORDER BY 1",
  );
  expect(ours).toEqual(
    files
      .filter((f) => f.filename !== "01_profiles.sql") // the old migrate.sh's row: adopted, left as it is
      .map((f) => ({ filename: f.filename, checksum: f.checksum })),
  );
  const [legacyRow] = await rows(
    db,
    "SELECT checksum FROM public.schema_migrations WHERE filename = '01_profiles.sql'",
  );
  expect(legacyRow).toEqual({ checksum: "e3b0c442".repeat(8) });
}

/** Files this job applied so far. */
const appliedCount = async (db: PGlite) =>
  (await rows(db, "SELECT 1 FROM public.schema_migrations WHERE applied_by LIKE 'migrate:%'")).length;

let clean: Stack;
let killed: Stack;
let stopped: Stack;
let reference: Promise<Awaited<ReturnType<typeof snapshot>>> | undefined;
beforeAll(async () => {
  [clean, killed, stopped] = await Promise.all([
    startStack({ supabase: true }),
    startStack({ supabase: true }),
    startStack({ supabase: true }),
  ]);
  for (const stack of [clean, killed, stopped]) await legacy(stack.supabase as PGlite);
  MIGRATIONS = await mkdtemp(join(tmpdir(), "idempotency-migrations-"));
  await cp(SHIPPED, MIGRATIONS, { recursive: true });
  await writeFile(join(MIGRATIONS, "04_records_itself.sql"), RECORDS_ITSELF);
}, JOB_TEST_TIMEOUT_MS);
afterAll(async () => {
  await Promise.all([clean?.close(), killed?.close(), stopped?.close()]);
});

/** One clean run on a fresh database: the reference end state. */
const cleanRun = () => {
  reference ??= (async () => {
    const db = clean.supabase as PGlite;
    const before = await snapshot(db);
    await runJobOk("migrate", ["--dir", MIGRATIONS], clean.env);
    await expectAllApplied(db);
    const after = await snapshot(db);
    expect(after, "migrate changed nothing on a fresh database").not.toEqual(before);
    return after;
  })();
  return reference;
};

it(
  "a second migrate run exits 0 and applies nothing twice",
  async () => {
    const first = await cleanRun();
    await runJobOk("migrate", ["--dir", MIGRATIONS], clean.env);
    expect(await snapshot(clean.supabase as PGlite)).toEqual(first);
  },
  JOB_TEST_TIMEOUT_MS,
);

it(
  "migrate killed mid-run and retried leaves every migration applied once",
  async () => {
    const db = killed.supabase as PGlite;
    const total = (await readMigrations(MIGRATIONS)).length - 1; // 01 is the old tools'
    const ref = await cleanRun();
    // Every query waits 400 ms first: the kill lands between the first committed file and the next one.
    killed.faults.set("supabase", { route: "POST /v1/projects/*", latencyMs: 400 });
    await killWhen("migrate", ["--dir", MIGRATIONS], killed.env, async () => (await appliedCount(db)) >= 1);
    const atKill = await appliedCount(db);
    expect(atKill).toBeGreaterThanOrEqual(1);
    expect(atKill).toBeLessThan(total);
    // A query sent just before the kill may still run (its caller gone): let it finish before retrying.
    await waitFor(() => killed.faults.inFlight("supabase") === 0, 5_000, "the killed run's last query");
    killed.faults.clear();
    await runJobOk("migrate", ["--dir", MIGRATIONS], killed.env);
    await expectAllApplied(db);
    expect(await snapshot(db)).toEqual(ref);
  },
  JOB_TEST_TIMEOUT_MS,
);

it(
  "migrate stopped by SIGTERM mid-run exits 143 between files, and a retry applies the rest once",
  async () => {
    const db = stopped.supabase as PGlite;
    const total = (await readMigrations(MIGRATIONS)).length - 1; // 01 is the old tools'
    const ref = await cleanRun();
    stopped.faults.set("supabase", { route: "POST /v1/projects/*", latencyMs: 400 });
    // The runner lets the file in flight finish (its own transaction), then the job stops before the next.
    await killWhen(
      "migrate",
      ["--dir", MIGRATIONS],
      stopped.env,
      async () => (await appliedCount(db)) >= 1,
      "SIGTERM",
    );
    expect(stopped.faults.inFlight("supabase")).toBe(0);
    const atStop = await appliedCount(db);
    expect(atStop).toBeGreaterThanOrEqual(1);
    expect(atStop).toBeLessThan(total);
    stopped.faults.clear();
    await runJobOk("migrate", ["--dir", MIGRATIONS], stopped.env);
    await expectAllApplied(db);
    expect(await snapshot(db)).toEqual(ref);
  },
  JOB_TEST_TIMEOUT_MS,
);
