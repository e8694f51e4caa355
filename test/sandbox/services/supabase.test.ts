import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFaults } from "../../../sandbox/faults.ts";
import { type SupabaseService, startSupabaseApi } from "../../../sandbox/supabase/server.ts";

const TOKEN = "sbp_sandbox_test_token";
const REF = "sandboxprojectref000";
const faults = createFaults();
let sb: SupabaseService;

beforeAll(async () => {
  sb = await startSupabaseApi({ token: TOKEN, projectRef: REF, faults });
});
afterAll(async () => {
  await sb?.close();
});

async function query(sql: string, opts: { token?: string | null; ref?: string } = {}) {
  const headers: Record<string, string> = { "content-type": "application/json" };
  const token = opts.token === undefined ? TOKEN : opts.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  const res = await fetch(`${sb.url}/v1/projects/${opts.ref ?? REF}/database/query`, {
    method: "POST",
    headers,
    body: JSON.stringify({ query: sql }),
  });
  // biome-ignore lint/suspicious/noExplicitAny: a JSON body the assertions read field by field
  return { status: res.status, body: (await res.json()) as any };
}

const USER_A = "11111111-1111-4111-8111-111111111111";
const USER_B = "22222222-2222-4222-8222-222222222222";

// Shaped like a real-world Supabase migration: RLS policies on auth.uid(), a storage policy on foldername.
const MIGRATION = `
CREATE TABLE public.notes (
  id uuid PRIMARY KEY DEFAULT extensions.uuid_generate_v4(),
  owner_id uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
  body text NOT NULL);
ALTER TABLE public.notes ENABLE ROW LEVEL SECURITY;
CREATE POLICY notes_own ON public.notes FOR ALL TO authenticated
  USING (owner_id = auth.uid()) WITH CHECK (owner_id = auth.uid());
GRANT SELECT, INSERT ON public.notes TO authenticated;
INSERT INTO storage.buckets (id, name, public) VALUES ('exports', 'exports', false);
CREATE POLICY exports_read ON storage.objects FOR SELECT TO authenticated
  USING (bucket_id = 'exports' AND (storage.foldername(name))[1] = auth.uid()::text);
CREATE TABLE public.schema_migrations (filename text UNIQUE, checksum text, applied_at timestamptz DEFAULT now());
INSERT INTO public.schema_migrations (filename, checksum) VALUES ('01_notes.sql', 'abc')
RETURNING filename;`;

describe("auth and routing", () => {
  it.each([
    ["missing", null, 401],
    ["wrong", "sbp_wrong", 401],
  ])("answers a %s bearer token with %i", async (_n, token, status) => {
    const r = await query("select 1", { token });
    expect(r.status).toBe(status);
    expect(r.body.message).toMatch(/Unauthorized/);
  });

  it("answers 404 for an unknown project ref", async () => {
    const r = await query("select 1", { ref: "otherprojectref00000" });
    expect(r.status).toBe(404);
    expect(r.body.message).toMatch(/otherprojectref00000/);
  });
});

describe("database/query", () => {
  it("starts like a new Supabase project", async () => {
    const r = await query(`
      SELECT (SELECT array_agg(rolname::text ORDER BY rolname) FROM pg_roles
                WHERE rolname IN ('anon','authenticated','service_role')) AS roles,
             to_regclass('auth.users') IS NOT NULL AS users, to_regclass('auth.sessions') IS NOT NULL AS sessions,
             to_regclass('storage.objects') IS NOT NULL AS objects, storage.foldername('a/b/c.txt') AS folders`);
    expect(r.body).toEqual([
      {
        roles: ["anon", "authenticated", "service_role"],
        users: true,
        sessions: true,
        objects: true,
        folders: ["a", "b"],
      },
    ]);
  });

  it("applies a migration using RLS, auth.uid() and storage.foldername, returning the last statement's rows", async () => {
    const r = await query(MIGRATION);
    expect(r.status).toBe(201);
    expect(r.body).toEqual([{ filename: "01_notes.sql" }]);
  });

  it("enforces the migration's policies for a signed-in user", async () => {
    await query(`
      INSERT INTO auth.users (id, email) VALUES ('${USER_A}', 'a@example.test'), ('${USER_B}', 'b@example.test');
      INSERT INTO public.notes (owner_id, body) VALUES ('${USER_A}', 'a1'), ('${USER_A}', 'a2'), ('${USER_B}', 'b1');
      INSERT INTO storage.objects (bucket_id, name) VALUES ('exports', '${USER_A}/x.csv'), ('exports', '${USER_B}/y.csv');`);
    const rows = await query(`
      SET ROLE authenticated;
      SELECT set_config('request.jwt.claims', '{"sub":"${USER_B}","role":"authenticated"}', false);
      SELECT (SELECT count(*)::int FROM public.notes) AS notes, (SELECT count(*)::int FROM storage.objects) AS objects,
             auth.uid()::text AS uid, auth.role() AS role`);
    expect(rows.body).toEqual([{ notes: 1, objects: 1, uid: USER_B, role: "authenticated" }]);
    // The role does not leak into the next request.
    expect(
      (await query("SELECT current_user::text AS u, (SELECT count(*)::int FROM public.notes) AS n")).body,
    ).toEqual([{ u: "postgres", n: 3 }]);
  });

  it("answers a SQL error with 400 and Supabase's message, and rolls the whole script back", async () => {
    const r = await query(
      "INSERT INTO public.schema_migrations (filename) VALUES ('02_x.sql'); SELECT nope FROM nowhere;",
    );
    expect(r.status).toBe(400);
    expect(r.body.message).toMatch(
      /^Failed to run sql query: ERROR: {2}42P01: relation "nowhere" does not exist/,
    );
    const after = await query(
      "SELECT count(*)::int AS n FROM public.schema_migrations WHERE filename = '02_x.sql'",
    );
    expect(after.body).toEqual([{ n: 0 }]);
  });

  it("rolls back a failed BEGIN…COMMIT script and serves the next request normally", async () => {
    const r = await query(
      "BEGIN; INSERT INTO public.schema_migrations (filename) VALUES ('03_y.sql'); SELECT 1/0; COMMIT;",
    );
    expect(r.status).toBe(400);
    const after = await query(
      "SELECT count(*)::int AS n FROM public.schema_migrations WHERE filename = '03_y.sql'",
    );
    expect(after).toEqual({ status: 201, body: [{ n: 0 }] });
  });

  it("serialises requests: concurrent transactions never interleave", async () => {
    await query("CREATE TABLE public.counter (n int); INSERT INTO public.counter VALUES (0);");
    // Each script reads, waits, then writes read+1: interleaving would lose increments.
    const script = `BEGIN;
      CREATE TEMP TABLE t ON COMMIT DROP AS SELECT n FROM public.counter;
      SELECT pg_sleep(0.02);
      UPDATE public.counter SET n = (SELECT n FROM t) + 1;
      COMMIT;`;
    const results = await Promise.all(Array.from({ length: 8 }, () => query(script)));
    expect(results.map((r) => r.status)).toEqual(Array(8).fill(201));
    expect((await query("SELECT n FROM public.counter")).body).toEqual([{ n: 8 }]);
  });
});

describe("rate limit as a fault", () => {
  it("answers 429 with Retry-After past the per-minute limit, per token", async () => {
    faults.set("supabase", { route: "POST /v1/projects/*", perMinute: 2 });
    try {
      const statuses = [];
      for (let i = 0; i < 3; i++) statuses.push((await query("select 1 as x")).status);
      expect(statuses).toEqual([201, 201, 429]);
      const res = await fetch(`${sb.url}/v1/projects/${REF}/database/query`, {
        method: "POST",
        headers: { authorization: `Bearer ${TOKEN}` },
        body: JSON.stringify({ query: "select 1" }),
      });
      expect(res.status).toBe(429);
      expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(60);
    } finally {
      faults.clear("supabase");
    }
  });
});
