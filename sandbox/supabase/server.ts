/**
 * The Supabase Management API's `POST /v1/projects/{ref}/database/query` (CONTRACT §2), on its own
 * database: PGlite by default, or a real PostgreSQL server with `postgresUrl` (see ./database.ts: there
 * every request is its own session and requests run in parallel).
 *
 * Answers: 201 with the rows of the LAST statement as a JSON array. An SQL error is 400
 * `{message: "Failed to run sql query: ERROR:  <code>: <text>"}`, or the same body with 500 when
 * `sqlErrorStatus` is 500 (the published spec lists a 500 "Failed to run sql query": a client must
 * handle both; switch at run time with `setSqlErrorStatus`). 401 without the bearer token, 404 for
 * another project ref. The 60/minute limit is a fault: `faults.set("supabase", { route: "*", perMinute: 60 })`
 * or `rateLimitPerMinute: 60` here.
 *
 * `state: "legacy"` starts the database as the old tools left production (./legacy.ts): their tracking
 * table with rows in every checksum form, one written by a file that records itself.
 */
import { timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { PGlite } from "@electric-sql/pglite";
import type { Faults } from "../faults.ts";
import { listen, parseUrl, readJson, type Service, sendJson } from "../service.ts";
import { openPglite, openPostgres, type SqlDatabase } from "./database.ts";
import { SUPABASE_INIT_SQL } from "./init-sql.ts";
import { LEGACY_SQL } from "./legacy.ts";

export interface SupabaseApiOptions {
  /** Folder to persist the (PGlite) database in (initialised only when new). Default: in memory. */
  dataDir?: string;
  /** A real PostgreSQL server instead of PGlite, e.g. from ./postgres-server.ts (initialised when new). */
  postgresUrl?: string;
  /** "fresh" (default): a new Supabase project; "legacy": as the old tools left production. */
  state?: "fresh" | "legacy";
  /** Status of an SQL error: 400 (default) or 500 "Failed to run sql query". */
  sqlErrorStatus?: 400 | 500;
  token: string;
  projectRef: string;
  faults: Faults;
  port?: number;
  /** Turns on the Management API's per-token limit (installed as a `perMinute` fault rule). */
  rateLimitPerMinute?: number;
  /** One JSON object per query (status, ms, rows); never the SQL text or the token. */
  log?: (event: Record<string, unknown>) => void;
}

export interface SupabaseService extends Service {
  /** The PGlite database itself, for tests that check what a migration did (PGlite backend only). */
  db: PGlite;
  /** Runs SQL directly on the database (either backend), bypassing the API: for tests. */
  sql<T = Record<string, unknown>>(query: string): Promise<T[]>;
  setSqlErrorStatus(status: 400 | 500): void;
}

/**
 * @example
 * const sb = await startSupabaseApi({ token: "sbp_x", projectRef: "sandboxprojectref000", faults, state: "legacy" });
 * await fetch(`${sb.url}/v1/projects/sandboxprojectref000/database/query`, {
 *   method: "POST", headers: { authorization: "Bearer sbp_x" }, body: JSON.stringify({ query: "select 1 as x" }) });
 */
export async function startSupabaseApi(opts: SupabaseApiOptions): Promise<SupabaseService> {
  const init = async (exec: (sql: string) => Promise<unknown>) => {
    const done = (await exec("SELECT 1 FROM pg_namespace WHERE nspname = 'sandbox_meta'")) as
      | { rows: unknown[] }[]
      | { rows: unknown[] };
    const rows = Array.isArray(done) ? done.at(-1)?.rows : done?.rows;
    if (rows?.length) return;
    await exec(SUPABASE_INIT_SQL + (opts.state === "legacy" ? LEGACY_SQL : ""));
  };
  const database: SqlDatabase & { db?: PGlite } = opts.postgresUrl
    ? await openPostgres(opts.postgresUrl, init)
    : await openPglite(opts.dataDir, init);
  if (opts.rateLimitPerMinute) {
    opts.faults.set("supabase", { route: "POST /v1/projects/*", perMinute: opts.rateLimitPerMinute });
  }
  let sqlErrorStatus = opts.sqlErrorStatus ?? 400;
  const queryPath = /^\/v1\/projects\/([^/]+)\/database\/query$/;

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const { path } = parseUrl(req);
    if (!authorised(req.headers.authorization, opts.token)) {
      return sendJson(res, 401, {
        message: "Unauthorized: send Authorization: Bearer <SUPABASE_ACCESS_TOKEN>",
      });
    }
    const match = path.match(queryPath);
    if (!match || req.method !== "POST") {
      return sendJson(res, 404, {
        message: `no route ${req.method} ${path}: use POST /v1/projects/{ref}/database/query`,
      });
    }
    if (match[1] !== opts.projectRef) {
      return sendJson(res, 404, {
        message: `project ${match[1]} not found: this sandbox serves ${opts.projectRef}`,
      });
    }
    const body = (await readJson(req).catch(() => null)) as { query?: unknown } | null;
    if (!body || typeof body.query !== "string" || body.query.trim() === "") {
      return sendJson(res, 400, { message: 'body must be {"query": "<sql>"}' });
    }
    const started = Date.now();
    const outcome = await database.run(body.query);
    const ms = Date.now() - started;
    if ("error" in outcome) {
      const { code, message, ...rest } = outcome.error;
      opts.log?.({ service: "supabase", path, status: sqlErrorStatus, ms });
      return sendJson(res, sqlErrorStatus, {
        message: `Failed to run sql query: ERROR:  ${code ?? "XX000"}: ${message}`,
        error: { code, ...rest },
      });
    }
    opts.log?.({ service: "supabase", path, status: 201, ms, rows: outcome.rows.length });
    sendJson(res, 201, outcome.rows);
  };

  const service = await listen(opts.faults.wrap("supabase", handle), {
    port: opts.port,
    onClose: () => database.close(),
  });
  return {
    ...service,
    get db(): PGlite {
      if (!database.db)
        throw new Error("SupabaseService.db: PGlite backend only; use sql() with postgresUrl");
      return database.db;
    },
    async sql<T>(query: string) {
      const outcome = await database.run(query);
      if ("error" in outcome) throw new Error(outcome.error.message);
      return outcome.rows as T[];
    },
    setSqlErrorStatus(status: 400 | 500) {
      sqlErrorStatus = status;
    },
  };
}

function authorised(header: string | undefined, token: string): boolean {
  const m = header?.match(/^Bearer\s+(.+)$/i);
  if (!m?.[1] || !token) return false;
  const a = Buffer.from(m[1]);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}
