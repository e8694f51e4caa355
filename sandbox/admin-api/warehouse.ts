/**
 * The warehouse: one database behind the reference admin API and the BigQuery emulator: PGlite (default),
 * or a database on a real PostgreSQL server (`postgresUrl`; warehouse-db.ts) where requests run at once.
 * A BigQuery dataset is a Postgres schema (`organizations`, `org_<slug>`); the emulator's own bookkeeping
 * (only its presence: "already created") lives in schema `sandbox_admin`, which no route lists.
 */
import { PGlite, types } from "@electric-sql/pglite";
import { createMutex } from "../service.ts";
import { diffDataset } from "./datasets.ts";
import { seedOrgs, seedWarehouse } from "./seed.ts";
import { createTableSql, DATASET, META_TABLES } from "./tables.ts";
import { openPostgresWarehouse, type WarehouseDb } from "./warehouse-db.ts";

/**
 * How the `organizations` dataset starts:
 * - `legacy` (default): an older API version bootstrapped it: 3 meta tables missing, 2 columns missing,
 *   one extra old table and one extra old column (which no sync removes); seeded. The status says
 *   OUT_OF_SYNC, before and after a sync (the extras stay).
 * - `current`: every meta table at the current version; seeded.
 * - `empty`: no dataset at all (a new environment): bootstrap creates it fresh; no orgs.
 */
export type WarehouseState = "legacy" | "current" | "empty";

export interface WarehouseOptions {
  /** Folder to persist the database in; seeded only when new. Default: in memory. */
  dataDir?: string;
  /**
   * A database on a PostgreSQL server instead of PGlite (seeded only when new): requests are then
   * handled concurrently, each in a session of its own, as the real API handles them.
   */
  postgresUrl?: string;
  orgs?: { active: number; inactive: number };
  now?: () => Date;
  state?: WarehouseState;
}

export type { WarehouseDb } from "./warehouse-db.ts";

/** `Warehouse` (PGlite, the default) or `Warehouse<WarehouseDb>` (either kind: what the services take). */
export interface Warehouse<D extends WarehouseDb = PGlite> {
  db: D;
  now: () => Date;
  /**
   * Runs a request's work: on PGlite (one connection) one at a time, so work never interleaves; on a
   * PostgreSQL server at once, each query in its own session, as the real API's requests run.
   */
  exclusive<T>(fn: (db: D) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export const LEGACY = {
  missingTables: ["org_audit_logs", "org_invitations", "org_hierarchy"],
  missingColumns: { org_profiles: ["default_timezone"], org_usage_quotas: ["concurrent_limit"] } as Record<
    string,
    string[]
  >,
  extraTable: "org_usage_legacy",
  extraColumn: { table: "org_profiles", column: "legacy_plan_code" },
};

/**
 * @example
 * const wh = await startWarehouse({ orgs: { active: 10, inactive: 3 } });
 * const { rows } = await wh.db.query("SELECT count(*)::int AS n FROM organizations.org_profiles");
 * await wh.close();
 */
export async function startWarehouse(
  opts?: WarehouseOptions & { postgresUrl?: undefined },
): Promise<Warehouse>;
export async function startWarehouse(opts: WarehouseOptions): Promise<Warehouse<WarehouseDb>>;
export async function startWarehouse(opts: WarehouseOptions = {}): Promise<Warehouse<WarehouseDb>> {
  const now = opts.now ?? (() => new Date());
  if (opts.postgresUrl) {
    const db = await openPostgresWarehouse(opts.postgresUrl);
    if (await isFresh(db)) await createInitial(db, opts, now());
    return { db, now, exclusive: (fn) => fn(db), close: () => db.close() };
  }
  // DATE as 'YYYY-MM-DD' text: a JS Date would shift it by the local time zone and lose its meaning.
  const db = await PGlite.create({ dataDir: opts.dataDir, parsers: { [types.DATE]: (v: string) => v } });
  await db.exec("SET TIME ZONE 'UTC'");
  const mutex = createMutex();
  if (await isFresh(db)) await createInitial(db, opts, now());
  return {
    db,
    now,
    exclusive: (fn) => mutex.run(() => fn(db)),
    close: () => mutex.run(() => db.close()),
  };
}

const isFresh = async (db: WarehouseDb) =>
  !(await db.query("SELECT 1 FROM information_schema.schemata WHERE schema_name = 'sandbox_admin'")).rows
    .length;

async function createInitial(db: WarehouseDb, opts: WarehouseOptions, now: Date) {
  await db.exec(`
    CREATE SCHEMA sandbox_admin;`);
  const state = opts.state ?? "legacy";
  if (state === "empty") return;
  await db.exec(`CREATE SCHEMA ${DATASET}`);
  for (const def of META_TABLES) {
    if (state === "legacy" && LEGACY.missingTables.includes(def.name)) continue;
    const omit = state === "legacy" ? (LEGACY.missingColumns[def.name] ?? []) : [];
    await db.exec(createTableSql(DATASET, def, omit));
  }
  if (state === "legacy") {
    await db.exec(
      `CREATE TABLE ${DATASET}.${LEGACY.extraTable} (org_slug TEXT, usage_date DATE, runs BIGINT)`,
    );
    const { table, column } = LEGACY.extraColumn;
    await db.exec(`ALTER TABLE ${DATASET}.${table} ADD COLUMN ${column} TEXT`);
  }
  const orgs = opts.orgs ?? { active: 10, inactive: 3 };
  await seedWarehouse(db, seedOrgs(orgs.active, orgs.inactive), now);
}

/** True when the meta dataset exists with every table and column (what a clean `bootstrap/status` says). */
export async function isBootstrapped(wh: Warehouse): Promise<boolean> {
  const d = await diffDataset(wh.db, DATASET, META_TABLES);
  return (
    d.dataset_exists &&
    d.tables_missing.length === 0 &&
    Object.values(d.schema_diffs).every((t) => t.missing_columns.length === 0)
  );
}
