import { z } from "zod";
import { MAX_CONNECTIONS } from "../../src/runtime/http-policy.ts";
import { defineJob } from "../../src/runtime/job.ts";
import { listActiveOrgs, type OrgListing } from "../lib/org-list.ts";
import { forEachBounded } from "../lib/pool.ts";
import { orgFlag } from "../lib/slug.ts";

/** Enough to overlap network waits without hammering the API: 8 per task (× tasks in parallel). */
const DEFAULT_CONCURRENCY = 8;
const concurrency = z.coerce
  .number()
  .int()
  .min(1, "must be at least 1")
  .max(MAX_CONNECTIONS, `must be at most ${MAX_CONNECTIONS} (the client's connections per origin)`)
  .default(DEFAULT_CONCURRENCY);

/**
 * Release step 3: sync every active org's tables. Sharded across Cloud Run tasks by a stable hash of the
 * slug; bounded concurrency within a task; one failing org never stops the others; exit 1 if any failed.
 */
export default defineJob({
  name: "org-sync-all",
  description: "Sync the tables of every active organisation, sharded across tasks (release step 3).",
  timeoutSeconds: 60 * 60,
  retries: 1,
  tasks: 2,
  uses: ["admin-api"],
  routes: ["listOrganizations", "syncOrganization"],
  flags: {
    org: { type: "string", description: "Sync only this organisation (org slug).", schema: orgFlag },
    concurrency: {
      type: "string",
      description: `Orgs synced at once per task (default ${DEFAULT_CONCURRENCY}).`,
      schema: concurrency,
      default: String(DEFAULT_CONCURRENCY),
    },
  },
  async run(ctx) {
    const { shard, flags } = ctx;
    const listing: OrgListing =
      flags.org !== undefined
        ? { slugs: [flags.org], scans: 0, stable: true, shifts: [] }
        : await listActiveOrgs(ctx.api, ctx.signal);
    for (const shift of listing.shifts)
      ctx.log.warn(`Org list moved while it was read; reading it again: ${shift}`);
    const all = listing.slugs;
    const mine = all.filter((slug) => shard.owns(slug));
    ctx.log.info("Organisations to sync", {
      total: all.length,
      this_task: mine.length,
      task: shard.index,
      tasks: shard.count,
      concurrency: flags.concurrency,
    });
    // Counts, not lists: nothing per org outlives its sync but a failure (memory stays flat in the org count).
    let synced = 0;
    let unchanged = 0;
    const failed: { org: string; reason: string }[] = [];
    const interrupted: string[] = [];
    const { notStarted } = await forEachBounded(
      mine,
      flags.concurrency ?? DEFAULT_CONCURRENCY,
      ctx.signal,
      async (org) => {
        try {
          const r = await ctx.api.syncOrganization(org);
          const errors = r.errors.map((e) => (typeof e === "string" ? e : JSON.stringify(e)));
          if (r.status !== "SUCCESS" || errors.length) {
            failed.push({ org, reason: `${r.status}: ${errors.join("; ") || r.message}` });
            ctx.log.error("Org sync incomplete", { org_slug: org, status: r.status, errors });
            return;
          }
          const columns = Object.values(r.columns_added).reduce((n, c) => n + c.length, 0);
          if (r.tables_created.length || columns) synced++;
          else unchanged++;
          ctx.log.info("Org synced", {
            org_slug: org,
            tables_created: r.tables_created,
            columns_added: columns,
          });
        } catch (error) {
          // Cut off by SIGTERM: the sync may have finished server-side; a re-run is safe, not a failure of the org.
          if (ctx.signal.aborted) return void interrupted.push(org);
          const reason = error instanceof Error ? error.message : String(error);
          failed.push({ org, reason });
          ctx.log.error("Org sync failed", { org_slug: org, error: reason });
        }
      },
    );
    if (ctx.signal.aborted) {
      ctx.log.warn("Stopped early: termination requested", { interrupted, not_started: notStarted });
    }
    const summary = {
      total: mine.length,
      synced,
      unchanged,
      failed,
      interrupted,
      not_started: notStarted,
      listing: { orgs: all.length, scans: listing.scans, stable: listing.stable, shifts: listing.shifts },
    };
    const moved = listing.stable
      ? listing.scans > 1
        ? ` (the org list moved during the listing and was read ${listing.scans} times)`
        : ""
      : ` (warning: the org list kept moving over ${listing.scans} readings; synced every org any reading saw, an org created meanwhile may be left for the next run)`;
    const text = `${synced} synced, ${unchanged} unchanged, ${failed.length} failed${notStarted.length || interrupted.length ? `, ${interrupted.length} interrupted, ${notStarted.length} not started` : ""} (task ${shard.index + 1}/${shard.count})`;
    if (failed.length || notStarted.length || interrupted.length) {
      return {
        status: "failed",
        message: `Org sync: ${text}${moved}: ${failed.map((f) => `${f.org} (${f.reason})`).join("; ")}`,
        summary,
      };
    }
    return { status: "succeeded", message: `Org sync: ${text}${moved}`, summary };
  },
});
