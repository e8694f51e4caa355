/**
 * Every ACTIVE org slug: page 1, then the pages it announces side by side (LIST_CONCURRENCY at once). The API orders the list by `created_at DESC` with LIMIT/OFFSET, so
 * the list can move under the pager: an org created meanwhile pushes every later row one place down (the
 * next page repeats a slug), and one deactivated meanwhile pulls them one place up (a slug is never seen).
 * Slugs are de-duplicated; a scan is trusted only when `total` stayed the same on every page and the
 * distinct slugs add up to it. Otherwise it scans again (up to MAX_SCANS); if the list never holds still,
 * the union of all scans is returned with `stable: false`, so the job can say so.
 */
import type { AdminApi } from "../../src/runtime/admin-api.ts";
import { forEachBounded } from "./pool.ts";

const PAGE_SIZE = 100;
/** Pages read at once: a read each, far below what the admin API serves. */
const LIST_CONCURRENCY = 8;
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
  const read = async (page: number) => {
    const p = await api.listOrganizations({ page, pageSize: PAGE_SIZE, status: "ACTIVE" });
    totals.add(p.total);
    rows += p.organizations.length;
    for (const o of p.organizations) if (o.status === "ACTIVE") slugs.add(o.org_slug);
    // An empty page that claims more would loop forever: stop, and let the checks below judge the scan.
    return p.has_next && p.organizations.length > 0;
  };
  let more = await read(1);
  // Page 1 says how many pages there are: read them side by side (10,000 orgs in ~13 round-trips, not
  // 100, and less time for the list to move). Any movement still shows in the checks below.
  const announced = Math.ceil(([...totals][0] ?? 0) / PAGE_SIZE);
  if (more && announced > 1) {
    const pages = Array.from({ length: announced - 1 }, (_, i) => i + 2);
    const last = new Map<number, boolean>();
    await forEachBounded(pages, LIST_CONCURRENCY, signal, async (page) => {
      last.set(page, await read(page));
    });
    more = last.get(pages.length + 1) ?? false;
  }
  // The list grew past what page 1 announced: read on, one page at a time.
  for (let page = Math.max(2, announced + 1); more && !signal.aborted; page++) more = await read(page);
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
