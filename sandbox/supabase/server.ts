/**
 * The Supabase Management API's `POST /v1/projects/{ref}/database/query` on its own PGlite database.
 *
 * Requests run one at a time (a BEGIN…COMMIT script is atomic and nothing interleaves with it). A
 * multi-statement body runs like Postgres's simple query protocol (one implicit transaction unless the
 * script manages its own); the answer is the rows of the LAST statement as a JSON array. A SQL error is
 * 400 `{message: "Failed to run sql query: ERROR:  <code>: <text>"}`; afterwards the connection is reset
 * (rollback, role, settings) so the next request starts clean, as a fresh pooled connection would.
 * The 60/minute limit is a fault: `faults.set("supabase", { route: "*", perMinute: 60 })` or
 * `rateLimitPerMinute: 60` here.
 */
import { timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { PGlite, types } from "@electric-sql/pglite";
import { pgcrypto } from "@electric-sql/pglite/contrib/pgcrypto";
import { uuid_ossp } from "@electric-sql/pglite/contrib/uuid_ossp";
import type { Faults } from "../faults.ts";
import { createMutex, listen, parseUrl, readJson, type Service, sendJson } from "../service.ts";
import { SUPABASE_INIT_SQL } from "./init-sql.ts";

export interface SupabaseApiOptions {
  /** Folder to persist the database in (initialised only when new). Default: in memory. */
  dataDir?: string;
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
  /** The database itself, for tests that check what a migration did. */
  db: PGlite;
}

/**
 * @example
 * const sb = await startSupabaseApi({ token: "sbp_x", projectRef: "sandboxprojectref000", faults });
 * await fetch(`${sb.url}/v1/projects/sandboxprojectref000/database/query`, {
 *   method: "POST", headers: { authorization: "Bearer sbp_x" }, body: JSON.stringify({ query: "select 1 as x" }) });
 */
export async function startSupabaseApi(opts: SupabaseApiOptions): Promise<SupabaseService> {
  const db = await PGlite.create({
    dataDir: opts.dataDir,
    extensions: { uuid_ossp, pgcrypto },
    parsers: { [types.DATE]: (v: string) => v },
  });
  const initialised = await db.query("SELECT 1 FROM pg_namespace WHERE nspname = 'sandbox_meta'");
  if (initialised.rows.length === 0) await db.exec(SUPABASE_INIT_SQL);
  if (opts.rateLimitPerMinute) {
    opts.faults.set("supabase", { route: "POST /v1/projects/*", perMinute: opts.rateLimitPerMinute });
  }
  const mutex = createMutex();
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
    const sql = body.query;
    const started = Date.now();
    const outcome = await mutex.run(() => run(db, sql));
    const ms = Date.now() - started;
    if ("error" in outcome) {
      opts.log?.({ service: "supabase", path, status: 400, ms });
      return sendJson(res, 400, outcome.error);
    }
    opts.log?.({ service: "supabase", path, status: 201, ms, rows: outcome.rows.length });
    sendJson(res, 201, outcome.rows);
  };

  const service = await listen(opts.faults.wrap("supabase", handle), {
    port: opts.port,
    onClose: () => mutex.run(() => db.close()),
  });
  return { ...service, db };
}

async function run(
  db: PGlite,
  sql: string,
): Promise<{ rows: unknown[] } | { error: Record<string, unknown> }> {
  try {
    const results = await db.exec(sql);
    return { rows: results.at(-1)?.rows ?? [] };
  } catch (e) {
    const err = e as { code?: string; message?: string; position?: string; detail?: string; hint?: string };
    const message = `Failed to run sql query: ERROR:  ${err.code ?? "XX000"}: ${err.message ?? String(e)}`;
    return {
      error: {
        message,
        error: { code: err.code, position: err.position, detail: err.detail, hint: err.hint },
      },
    };
  } finally {
    // A failed or unfinished transaction, SET ROLE or session settings must not leak into the next
    // request: reset the connection like a pool handing out a fresh one (ROLLBACK is a no-op otherwise).
    await db.exec("ROLLBACK; RESET ROLE; RESET ALL").catch(() => undefined);
  }
}

function authorised(header: string | undefined, token: string): boolean {
  const m = header?.match(/^Bearer\s+(.+)$/i);
  if (!m?.[1] || !token) return false;
  const a = Buffer.from(m[1]);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}
