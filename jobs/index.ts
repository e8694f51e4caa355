/**
 * The catalog: every job of the suite, validated at load. The single source of names, schedules,
 * timeouts, retries and resources — provisioning, the README tables and the entrypoint all read it.
 *
 * @example
 * import { catalog, getJob } from "../jobs/index.ts";
 * getJob("quota-reset")?.schedule; // { cron: "0 0 * * *", timeZone: "Etc/UTC" }
 */
import { buildCatalog } from "../src/runtime/catalog.ts";
import type { AnyJob } from "../src/runtime/job.ts";
import alerts from "./daily/alerts.ts";
import quotaCleanup from "./daily/quota-cleanup.ts";
import quotaReset from "./daily/quota-reset.ts";
import staleCleanup from "./daily/stale-cleanup.ts";
import bootstrap from "./manual/bootstrap.ts";
import migrate from "./manual/migrate.ts";
import orgSyncAll from "./manual/org-sync-all.ts";
import quotaMonthly from "./monthly/quota-monthly.ts";

/**
 * Manual jobs in release order (the release command's steps; a catalog test checks it), then daily jobs
 * by time of day, then monthly ones by day of month (buildCatalog refuses any other order).
 */
export const catalog: readonly AnyJob[] = buildCatalog({
  manual: [migrate, bootstrap, orgSyncAll],
  daily: [quotaReset, quotaCleanup, staleCleanup, alerts],
  monthly: [quotaMonthly],
});

/** The job named `name`, or undefined (the entrypoint then lists the jobs and exits 2). */
export const getJob = (name: string): AnyJob | undefined => catalog.find((job) => job.name === name);

export const jobNames = (): string[] => catalog.map((job) => job.name);
