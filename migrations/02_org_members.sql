-- Which user belongs to which organisation (the admin API keeps organisations themselves in BigQuery).
CREATE TABLE IF NOT EXISTS public.org_members (
  org_slug text NOT NULL,
  user_id uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
  role text NOT NULL DEFAULT 'member',
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (org_slug, user_id)
);

CREATE INDEX IF NOT EXISTS org_members_user_id_idx ON public.org_members (user_id);

ALTER TABLE public.org_members ENABLE ROW LEVEL SECURITY;

-- A user sees their own memberships (a policy that queried org_members itself would recurse).
CREATE POLICY org_members_select_own ON public.org_members
  FOR SELECT TO authenticated USING (user_id = auth.uid());

GRANT SELECT ON public.org_members TO authenticated;
GRANT ALL ON public.org_members TO service_role;
