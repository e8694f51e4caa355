-- A private bucket for organisation exports. Objects live under "<org_slug>/...": a member may read
-- the objects in the folder of an organisation they belong to.
INSERT INTO storage.buckets (id, name, public)
VALUES ('org-exports', 'org-exports', false)
ON CONFLICT (id) DO NOTHING;

CREATE POLICY org_exports_member_read ON storage.objects
  FOR SELECT TO authenticated
  USING (
    bucket_id = 'org-exports'
    AND (storage.foldername(name))[1] IN (
      SELECT m.org_slug FROM public.org_members m WHERE m.user_id = auth.uid()
    )
  );
