-- A suffix variant (02a): added after 02 shipped, ordered right after it. The old migration glob
-- (`[0-9][0-9]_*.sql`) skipped files like this one; the migrate job must not.
ALTER TABLE public.org_members
  ADD CONSTRAINT org_members_role_check CHECK (role IN ('owner', 'admin', 'member', 'viewer'));
