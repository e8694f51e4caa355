/**
 * Supabase migrations against `public.schema_migrations`, the tracking table the old tools created and
 * production already has (CONTRACT §2): `id serial, filename varchar(255) NOT NULL UNIQUE, applied_at,
 * checksum varchar(64) NULL, execution_time_ms NULL, applied_by DEFAULT current_user`. The job ADOPTS that
 * table as it is (on a fresh database it creates the same shape) and never adds a NOT NULL column, so the
 * old files' own `INSERT INTO schema_migrations (filename, checksum) … ON CONFLICT (filename) DO NOTHING`
 * keep working.
 *
 * Whose row is it? A row this job wrote has `applied_by` starting with `migrate:` (then the Cloud Run
 * execution, or `local`). Only those rows carry a checksum the job computed (full sha256 hex of the
 * file's bytes), so only those are verified against the file on disk. Every other row (the old
 * migrate.sh's full sha256 with applied_by = current_user, the old Python job's 16-hex prefix with
 * `cloud_run_job`, free text written by a file that records itself, or NULL) counts as applied, unverified.
 *
 * Each file is applied in ONE request that is ONE transaction, under a transaction-level advisory lock:
 *
 *   BEGIN; SELECT pg_advisory_xact_lock(K); <guard: no row yet>; <file>; upsert our row; COMMIT;
 *
 * so a file and its tracking row land together or not at all, a file that inserts its own row does not
 * collide with ours (the upsert overwrites the file's free text with our checksum and marker), and two
 * concurrent runs queue on the lock (the second one's guard then sees the row and the request rolls back).
 *
 * @example
 * const files = await readMigrations(new URL("../../migrations/", import.meta.url));
 * const plan = planMigrations(files, await readApplied(supabase)); // throws on a changed checksum
 * await ensureTrackingTable(supabase);
 * for (const file of plan.pending) await applyMigration(supabase, file, "migrate:local");
 */
import { PermanentError, RetryableError } from "./errors.ts";
import type { MigrationFile } from "./migration-files.ts";
import type { Row, SupabaseClient } from "./supabase.ts";

export { compareMigrations, type MigrationFile, readMigrations } from "./migration-files.ts";

/** Constant key of the advisory lock every migrate run takes ("scheduler-jobs:migrate"). */
export const MIGRATION_LOCK_KEY = 7_218_642_009;
/** `applied_by` of every row this job writes starts with this; other rows are legacy (unverified). */
export const APPLIED_BY_PREFIX = "migrate:";
/** Marker the guard raises when another run applied the file first. */
const ALREADY_APPLIED = "scheduler-jobs: migration already applied";

export interface AppliedMigration {
  filename: string;
  checksum: string | null;
  /** Written by this job (applied_by `migrate:…`): its checksum is ours and is verified. */
  ours: boolean;
}

export interface MigrationPlan {
  applied: MigrationFile[];
  pending: MigrationFile[];
  /** On disk and tracked by a legacy row (old tools, or a file that recorded itself): applied, unverified. */
  adopted: string[];
  /** Tracked in the database but not on disk (reported, never an error). */
  missing: string[];
}

/**
 * The old tools' table, exactly (00_migration_tracking.sql of the system this replaces). The ALTERs only
 * matter for a table of an older shape: nullable columns, so no old insert can break.
 */
const TRACKING_TABLE = `CREATE TABLE IF NOT EXISTS public.schema_migrations (
  id SERIAL PRIMARY KEY,
  filename VARCHAR(255) NOT NULL UNIQUE,
  applied_at TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
  checksum VARCHAR(64),
  execution_time_ms INTEGER,
  applied_by VARCHAR(255) DEFAULT current_user
);
ALTER TABLE public.schema_migrations ADD COLUMN IF NOT EXISTS checksum VARCHAR(64);
ALTER TABLE public.schema_migrations ADD COLUMN IF NOT EXISTS execution_time_ms INTEGER;
ALTER TABLE public.schema_migrations ADD COLUMN IF NOT EXISTS applied_by VARCHAR(255) DEFAULT current_user;`;

/**
 * Create the tracking table if needed (not in dry-run: that must change nothing). Under the same lock as
 * the files: two first runs at once would otherwise race on CREATE TABLE IF NOT EXISTS, which Postgres
 * does not make atomic (one fails on a duplicate catalog key).
 */
export async function ensureTrackingTable(supabase: SupabaseClient): Promise<void> {
  await supabase.query(
    `BEGIN;\nSELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY});\n${TRACKING_TABLE}\nCOMMIT;`,
    {
      idempotent: true,
    },
  );
}

/** Tracked files; [] when the tracking table does not exist yet (a fresh project, or a dry run). */
export async function readApplied(supabase: SupabaseClient): Promise<AppliedMigration[]> {
  const [exists] = await supabase.query(
    "SELECT to_regclass('public.schema_migrations') IS NOT NULL AS exists;",
    { idempotent: true },
  );
  if (!exists?.exists) return [];
  const rows = await supabase.query(
    // to_jsonb: a table of an older shape (no checksum or applied_by column yet) reads as NULLs, not an error.
    "SELECT s.filename, to_jsonb(s) ->> 'checksum' AS checksum, to_jsonb(s) ->> 'applied_by' AS applied_by FROM public.schema_migrations s ORDER BY s.filename;",
    { idempotent: true },
  );
  return rows.map((r: Row) => ({
    filename: String(r.filename),
    checksum: r.checksum == null ? null : String(r.checksum),
    ours: typeof r.applied_by === "string" && r.applied_by.startsWith(APPLIED_BY_PREFIX),
  }));
}

/** Split files into applied and pending; a file whose row is ours and whose checksum changed is a PermanentError. */
export function planMigrations(
  files: readonly MigrationFile[],
  applied: readonly AppliedMigration[],
): MigrationPlan {
  const byName = new Map(applied.map((a) => [a.filename, a]));
  const changed = files.filter((f) => {
    const row = byName.get(f.filename);
    return row?.ours === true && row.checksum !== f.checksum;
  });
  if (changed.length) {
    throw new PermanentError(
      `applied migration${changed.length > 1 ? "s" : ""} changed on disk: ${changed
        .map(
          (f) =>
            `${f.filename} (applied ${byName.get(f.filename)?.checksum?.slice(0, 12) ?? "?"}…, now ${f.checksum.slice(0, 12)}…)`,
        )
        .join(
          ", ",
        )}. Never edit an applied migration: restore the file and add a new NN_*.sql with the change.`,
    );
  }
  const onDisk = new Set(files.map((f) => f.filename));
  return {
    applied: files.filter((f) => byName.has(f.filename)),
    pending: files.filter((f) => !byName.has(f.filename)),
    adopted: files.filter((f) => byName.get(f.filename)?.ours === false).map((f) => f.filename),
    missing: applied.map((a) => a.filename).filter((n) => !onDisk.has(n)),
  };
}

const literal = (value: string) => `'${value.replaceAll("'", "''")}'`;

/** The one-request, one-transaction SQL for a file (exported for tests). */
export function migrationSql(file: MigrationFile, appliedBy: string): string {
  const name = literal(file.filename);
  return [
    "BEGIN;",
    `SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY});`,
    `DO $guard$ BEGIN IF EXISTS (SELECT 1 FROM public.schema_migrations WHERE filename = ${name}) THEN RAISE EXCEPTION '${ALREADY_APPLIED}: %', ${name}; END IF; END $guard$;`,
    // A newline before the ";" so a file ending in a -- comment still terminates its last statement.
    `${file.sql.trim()}\n;`,
    // The file may have inserted its own row (legacy style, free-text checksum): ours replaces it.
    "INSERT INTO public.schema_migrations (filename, checksum, applied_at, execution_time_ms, applied_by)",
    `VALUES (${name}, ${literal(file.checksum)}, now(), (extract(epoch FROM clock_timestamp() - now()) * 1000)::integer, ${literal(appliedBy)})`,
    "ON CONFLICT (filename) DO UPDATE SET checksum = EXCLUDED.checksum, applied_at = EXCLUDED.applied_at,",
    "  execution_time_ms = EXCLUDED.execution_time_ms, applied_by = EXCLUDED.applied_by;",
    "COMMIT;",
  ].join("\n");
}

/**
 * Apply one file. Returns "applied", or "already-applied" when a concurrent run won the lock first.
 * Safe to resend (idempotent) because the guard refuses a second application inside the transaction.
 */
export async function applyMigration(
  supabase: SupabaseClient,
  file: MigrationFile,
  appliedBy: string,
): Promise<"applied" | "already-applied"> {
  try {
    await supabase.query(migrationSql(file, appliedBy), { idempotent: true });
    return "applied";
  } catch (error) {
    if (error instanceof Error && error.message.includes(ALREADY_APPLIED)) return "already-applied";
    if (error instanceof PermanentError) {
      throw new PermanentError(`migration ${file.filename} failed and was rolled back: ${error.message}`, {
        cause: error,
        status: error.status,
      });
    }
    // Transport trouble after the client's retries: the outcome is unknown, but re-running is safe.
    throw new RetryableError(
      `migration ${file.filename}: the Supabase API did not confirm it (${(error as Error).message}); re-run migrate — the tracking guard makes a second attempt safe`,
      { cause: error },
    );
  }
}
