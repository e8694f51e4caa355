/**
 * The "legacy" start state: a Supabase database as the old tools left production (CONTRACT §2). The
 * tracking table is the old `00_migration_tracking.sql` (nullable checksum, execution_time_ms and
 * applied_by), and its rows carry a checksum in every form the old tools wrote:
 * - the old migrate.sh: the full sha256 hex of the file, applied_by = current_user;
 * - the old Python job: the first 16 hex characters of sha256, applied_by = 'cloud_run_job';
 * - a file that records itself (`INSERT … (filename, checksum) VALUES (…, 'free-text') ON CONFLICT
 *   (filename) DO NOTHING`), run here as the old tools ran it, so its row is the file's own;
 * - NULL (a row recorded by hand).
 * The objects those files made exist too (a small `organizations` table and its added columns).
 */

/** Filenames tracked in the legacy state, by the checksum form of their row. */
export const LEGACY_ROWS = {
  fullSha256: "00_migration_tracking.sql",
  sha256Prefix16: "01_production_setup.sql",
  nullChecksum: "02_fix_rls_functions.sql",
  recordsItself: "11_integration_enabled_columns.sql",
} as const;

/** The free-text checksum the self-recording file writes. */
export const SELF_RECORDED_CHECKSUM = "integration-enabled-columns-v1";

const TRACKING = `CREATE TABLE IF NOT EXISTS schema_migrations (
  id SERIAL PRIMARY KEY,
  filename VARCHAR(255) NOT NULL UNIQUE,
  applied_at TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
  checksum VARCHAR(64),  -- SHA256 of file content for integrity
  execution_time_ms INTEGER,
  applied_by VARCHAR(255) DEFAULT current_user
);
CREATE INDEX IF NOT EXISTS idx_schema_migrations_filename ON schema_migrations(filename);`;

/** The old tools' history, replayed in order on a new database. */
export const LEGACY_SQL = `
${TRACKING}
INSERT INTO schema_migrations (filename, checksum, execution_time_ms)
VALUES ('${LEGACY_ROWS.fullSha256}', encode(extensions.digest($t$${TRACKING}$t$, 'sha256'), 'hex'), 14);

CREATE TABLE IF NOT EXISTS public.organizations (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  org_slug text NOT NULL UNIQUE,
  name text NOT NULL,
  created_at timestamptz DEFAULT now()
);
ALTER TABLE public.organizations ENABLE ROW LEVEL SECURITY;
INSERT INTO schema_migrations (filename, checksum, execution_time_ms, applied_by)
VALUES ('${LEGACY_ROWS.sha256Prefix16}', '9c1e4a7be2f05d38', 812, 'cloud_run_job');

CREATE OR REPLACE FUNCTION public.user_org_slugs() RETURNS SETOF text LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = public AS $$ SELECT org_slug FROM public.organizations $$;
INSERT INTO schema_migrations (filename) VALUES ('${LEGACY_ROWS.nullChecksum}');

-- ${LEGACY_ROWS.recordsItself}, as the old tools ran it: the file inserts its own tracking row.
ALTER TABLE public.organizations ADD COLUMN IF NOT EXISTS integration_openai_enabled boolean DEFAULT false;
INSERT INTO schema_migrations (filename, checksum)
VALUES ('${LEGACY_ROWS.recordsItself}', '${SELF_RECORDED_CHECKSUM}')
ON CONFLICT (filename) DO NOTHING;
`;
