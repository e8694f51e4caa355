/**
 * Supabase migrations: the files of `migrations/`, their order and checksums, and the plan against
 * `schema_migrations`. Each file is applied in ONE request that is ONE transaction:
 *
 *   BEGIN; SELECT pg_advisory_xact_lock(K); <guard: not applied yet>; <file>; INSERT tracking row; COMMIT;
 *
 * so a file and its tracking row land together or not at all, and two concurrent runs queue on the lock
 * (the second one's guard then sees the row and the whole request rolls back harmlessly).
 *
 * @example
 * const files = await readMigrations(new URL("../../migrations/", import.meta.url));
 * const plan = planMigrations(files, await readApplied(supabase)); // throws on a changed checksum
 * for (const file of plan.pending) await applyMigration(supabase, file, "migrate");
 */
import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { ConfigError, PermanentError, RetryableError } from "./errors.ts";
import type { Row, SupabaseClient } from "./supabase.ts";

/** `NN_name.sql` or a suffix variant `NNa_name.sql`. */
const FILE_PATTERN = /^(\d+)([a-z]?)_([a-z0-9][a-z0-9_-]*)\.sql$/;
/** Constant key of the advisory lock every migrate run takes ("scheduler-jobs:migrate"). */
export const MIGRATION_LOCK_KEY = 7_218_642_009;
/** Marker the guard raises when another run applied the file first. */
const ALREADY_APPLIED = "scheduler-jobs: migration already applied";

export interface MigrationFile {
  filename: string;
  number: number;
  suffix: string;
  sql: string;
  /** Full sha256 hex of the file's bytes. */
  checksum: string;
}

export interface AppliedMigration {
  filename: string;
  checksum: string;
}

export interface MigrationPlan {
  applied: MigrationFile[];
  pending: MigrationFile[];
  /** Tracked in the database but no longer on disk (reported, never an error). */
  missing: string[];
}

/** Numeric prefix, then suffix ("" before "a"), then name. */
export const compareMigrations = (a: MigrationFile, b: MigrationFile): number =>
  a.number - b.number || a.suffix.localeCompare(b.suffix) || a.filename.localeCompare(b.filename);

/** A missing or unreadable migrations folder is bad input (exit 2), not a failure to retry. */
const notAFolder = (path: string) => (error: NodeJS.ErrnoException) => {
  if (!["ENOENT", "ENOTDIR", "EACCES"].includes(error.code ?? "")) throw error;
  throw new ConfigError(
    `migrations folder ${path} cannot be read (${error.code}): pass --dir <a folder of NN_name.sql files>`,
  );
};

/** Read every `*.sql` file of `dir`; a `.sql` file that does not follow the naming rule is refused. */
export async function readMigrations(dir: string | URL): Promise<MigrationFile[]> {
  const path = typeof dir === "string" ? dir : fileURLToPath(dir);
  const names = (await readdir(path).catch(notAFolder(path))).filter((n) => n.endsWith(".sql"));
  if (names.length === 0)
    throw new ConfigError(`no migrations in ${path}: pass --dir <a folder of NN_name.sql files>`);
  const bad = names.filter((n) => !FILE_PATTERN.test(n));
  if (bad.length) {
    throw new ConfigError(
      `migrations in ${path} must be named NN_name.sql or NNa_name.sql (lowercase)`,
      bad.map((n) => `${n}: rename it, e.g. 04_${n.replace(/\W+/g, "_").toLowerCase()}`),
    );
  }
  const files = await Promise.all(
    names.map(async (filename) => {
      const bytes = await readFile(`${path}/${filename}`);
      const [, number = "0", suffix = ""] = FILE_PATTERN.exec(filename) ?? [];
      return {
        filename,
        number: Number(number),
        suffix,
        sql: bytes.toString("utf8"),
        checksum: createHash("sha256").update(bytes).digest("hex"),
      };
    }),
  );
  return files.sort(compareMigrations);
}

const TRACKING_TABLE = `CREATE TABLE IF NOT EXISTS public.schema_migrations (
  filename text PRIMARY KEY,
  checksum text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now(),
  execution_time_ms integer NOT NULL,
  applied_by text NOT NULL
)`;

/** Create the tracking table if needed (not in dry-run: that must change nothing). */
export async function ensureTrackingTable(supabase: SupabaseClient): Promise<void> {
  await supabase.query(`${TRACKING_TABLE};`, { idempotent: true });
}

/** Applied files; [] when the tracking table does not exist yet (a fresh project, or a dry run). */
export async function readApplied(supabase: SupabaseClient): Promise<AppliedMigration[]> {
  const [exists] = await supabase.query(
    "SELECT to_regclass('public.schema_migrations') IS NOT NULL AS exists;",
    { idempotent: true },
  );
  if (!exists?.exists) return [];
  const rows = await supabase.query(
    "SELECT filename, checksum FROM public.schema_migrations ORDER BY filename;",
    {
      idempotent: true,
    },
  );
  return rows.map((r: Row) => ({ filename: String(r.filename), checksum: String(r.checksum) }));
}

/** Split files into applied and pending; an applied file whose checksum changed is a PermanentError. */
export function planMigrations(
  files: readonly MigrationFile[],
  applied: readonly AppliedMigration[],
): MigrationPlan {
  const byName = new Map(applied.map((a) => [a.filename, a.checksum]));
  const changed = files.filter((f) => byName.has(f.filename) && byName.get(f.filename) !== f.checksum);
  if (changed.length) {
    throw new PermanentError(
      `applied migration${changed.length > 1 ? "s" : ""} changed on disk: ${changed
        .map(
          (f) =>
            `${f.filename} (applied ${byName.get(f.filename)?.slice(0, 12)}…, now ${f.checksum.slice(0, 12)}…)`,
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
    missing: applied.map((a) => a.filename).filter((n) => !onDisk.has(n)),
  };
}

const literal = (value: string) => `'${value.replaceAll("'", "''")}'`;

/** The one-request, one-transaction SQL for a file (exported for tests and the sandbox). */
export function migrationSql(file: MigrationFile, appliedBy: string): string {
  const name = literal(file.filename);
  return [
    "BEGIN;",
    `SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY});`,
    `DO $guard$ BEGIN IF EXISTS (SELECT 1 FROM public.schema_migrations WHERE filename = ${name}) THEN RAISE EXCEPTION '${ALREADY_APPLIED}: %', ${name}; END IF; END $guard$;`,
    // A newline before the ";" so a file ending in a -- comment still terminates its last statement.
    `${file.sql.trim()}\n;`,
    "INSERT INTO public.schema_migrations (filename, checksum, applied_at, execution_time_ms, applied_by)",
    `VALUES (${name}, ${literal(file.checksum)}, now(), (extract(epoch FROM clock_timestamp() - now()) * 1000)::integer, ${literal(appliedBy)});`,
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
      `migration ${file.filename}: no answer from the Supabase API (${(error as Error).message}); re-run migrate — the tracking guard makes a second attempt safe`,
      { cause: error },
    );
  }
}
