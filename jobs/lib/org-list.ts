/**
 * Every ACTIVE org slug, page by page. The API orders the list by `created_at DESC` with LIMIT/OFFSET, so
 * the list can move under the pager: an org created meanwhile pushes every later row one place down (the
 * next page repeats a slug), and one deactivated meanwhile pulls them one place up (a slug is never seen).
 * Slugs are de-duplicated; a scan is trusted only when `total` stayed the same on every page and the
 * distinct slugs add up to it. Otherwise it scans again (up to MAX_SCANS); if the list never holds still,
 * the union of all scans is returned with `stable: false`, so the job can say so.
 */
import type { AdminApi } from "../../src/runtime/admin-api.ts";

const PAGE_SIZE = 100;
export const MAX_SCANS = 3;

export interface OrgListing {
  slugs: string[];
  /** Scans made (1 when the list held still). */
  scans: number;
  /** False when no scan saw a list that held still: some org may be missing (said in the summary). */
  stable: boolean;
  /** Why a scan was repeated, one line per repeated scan. */
  shifts: string[];
}

async function scan(api: AdminApi, signal: AbortSignal) {
  const slugs = new Set<string>();
  const totals = new Set<number>();
  let rows = 0;
  for (let page = 1; !signal.aborted; page++) {
    const p = await api.listOrganizations({ page, pageSize: PAGE_SIZE, status: "ACTIVE" });
    totals.add(p.total);
    rows += p.organizations.length;
    for (const o of p.organizations) if (o.status === "ACTIVE") slugs.add(o.org_slug);
    // An empty page that claims more would loop forever: stop, and let the checks below judge the scan.
    if (!p.has_next || p.organizations.length === 0) break;
  }
  const total = [...totals].at(-1) ?? 0;
  const problem =
    totals.size > 1
      ? `the total changed from ${[...totals].join(" to ")} during the listing (an org was created or deactivated)`
      : slugs.size !== total
        ? `saw ${slugs.size} distinct orgs in ${rows} rows but the API counts ${total} (the list moved between pages)`
        : null;
  return { slugs, problem };
}

/** @example const { slugs, stable } = await listActiveOrgs(ctx.api, ctx.signal); */
export async function listActiveOrgs(api: AdminApi, signal: AbortSignal): Promise<OrgListing> {
  const union = new Set<string>();
  const shifts: string[] = [];
  for (let n = 1; n <= MAX_SCANS && !signal.aborted; n++) {
    const { slugs, problem } = await scan(api, signal);
    for (const s of slugs) union.add(s);
    if (!problem) return { slugs: [...slugs], scans: n, stable: true, shifts };
    shifts.push(`scan ${n}: ${problem}`);
  }
  return { slugs: [...union], scans: shifts.length, stable: false, shifts };
}
