/**
 * A fake Supabase Management API: `POST /v1/projects/{ref}/database/query` over a real Postgres
 * (PGlite) prepared like a new Supabase project — roles anon/authenticated/service_role, schema auth
 * (users, sessions, auth.uid()) and schema storage (buckets, objects, storage.foldername()).
 * Create once per test file (PGlite takes seconds to start); `reset()` between tests.
 */
import { PGlite } from "@electric-sql/pglite";
import { type JsonServer, type Reply, startJsonServer } from "./http-server.ts";

export const FAKE_SUPABASE_TOKEN = "sbp_fake_token_for_tests";
export const FAKE_PROJECT_REF = "testprojectref000000";

const ROLES = `
CREATE ROLE anon NOLOGIN; CREATE ROLE authenticated NOLOGIN; CREATE ROLE service_role NOLOGIN BYPASSRLS;`;

const PROJECT = `
CREATE SCHEMA IF NOT EXISTS auth;
CREATE TABLE IF NOT EXISTS auth.users (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), email text UNIQUE, created_at timestamptz DEFAULT now());
CREATE TABLE IF NOT EXISTS auth.sessions (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), user_id uuid REFERENCES auth.users (id) ON DELETE CASCADE);
CREATE OR REPLACE FUNCTION auth.uid() RETURNS uuid LANGUAGE sql STABLE
  AS $$ SELECT nullif(current_setting('request.jwt.claim.sub', true), '')::uuid $$;
GRANT USAGE ON SCHEMA auth TO anon, authenticated, service_role;
CREATE SCHEMA IF NOT EXISTS storage;
CREATE TABLE IF NOT EXISTS storage.buckets (id text PRIMARY KEY, name text NOT NULL UNIQUE, public boolean DEFAULT false, created_at timestamptz DEFAULT now());
CREATE TABLE IF NOT EXISTS storage.objects (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), bucket_id text REFERENCES storage.buckets (id), name text NOT NULL, owner uuid);
ALTER TABLE storage.objects ENABLE ROW LEVEL SECURITY;
CREATE OR REPLACE FUNCTION storage.foldername(name text) RETURNS text[] LANGUAGE sql IMMUTABLE
  AS $$ SELECT (string_to_array(name, '/'))[1:array_length(string_to_array(name, '/'), 1) - 1] $$;
GRANT USAGE ON SCHEMA storage TO anon, authenticated, service_role;
GRANT USAGE ON SCHEMA public TO anon, authenticated, service_role;`;

export interface FakeSupabase extends JsonServer {
  db: PGlite;
  /** SQL of every query request, in order. */
  sql(): string[];
  /** One-shot replies for the next query requests (e.g. a 429), consumed in order before the DB runs. */
  queue(...replies: Reply[]): void;
  /** Called with each query's SQL before it runs (e.g. to simulate SIGTERM mid-run). */
  onQuery(fn: ((sql: string) => void) | undefined): void;
  /** Fresh project: drop public + storage, recreate, forget requests, clear the hook. */
  reset(): Promise<void>;
}

export async function startFakeSupabase(): Promise<FakeSupabase> {
  const db = await PGlite.create();
  await db.exec(ROLES + PROJECT);
  const queued: Reply[] = [];
  const hooks: { onQuery?: (sql: string) => void } = {};
  const server = await startJsonServer(async (req) => {
    if (req.headers.authorization !== `Bearer ${FAKE_SUPABASE_TOKEN}`)
      return { status: 401, body: { message: "Unauthorized" } };
    const match = /^\/v1\/projects\/([^/]+)\/database\/query$/.exec(req.path);
    if (req.method !== "POST" || !match)
      return { status: 404, body: { message: `no route ${req.method} ${req.path}` } };
    if (match[1] !== FAKE_PROJECT_REF)
      return { status: 404, body: { message: `project ${match[1]} not found` } };
    const next = queued.shift();
    if (next) return next;
    const sql = (req.body as { query?: unknown })?.query;
    if (typeof sql !== "string") return { status: 400, body: { message: "body.query must be a string" } };
    hooks.onQuery?.(sql);
    try {
      const results = await db.exec(sql);
      const last = [...results].reverse().find((r) => r.fields.length > 0);
      return { status: 201, body: last?.rows ?? [] };
    } catch (error) {
      // Like a pooled connection being returned: never leave the session inside a failed transaction.
      await db.exec("ROLLBACK").catch(() => undefined);
      return {
        status: 400,
        body: { message: `Failed to run sql query: ERROR: ${(error as Error).message}` },
      };
    }
  });
  const closeServer = server.close;
  return Object.assign(server, {
    db,
    sql: () => server.requests.map((r) => String((r.body as { query?: unknown })?.query ?? "")),
    queue: (...replies: Reply[]) => void queued.push(...replies),
    onQuery(fn: ((sql: string) => void) | undefined) {
      hooks.onQuery = fn;
    },
    async reset() {
      queued.length = 0;
      hooks.onQuery = undefined;
      await db.exec(
        `DROP SCHEMA IF EXISTS public CASCADE; DROP SCHEMA IF EXISTS storage CASCADE; CREATE SCHEMA public; ${PROJECT}`,
      );
      server.requests.length = 0;
    },
    async close() {
      await closeServer();
      await db.close();
    },
  });
}
