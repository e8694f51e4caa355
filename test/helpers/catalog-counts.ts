/**
 * Counts every test derives from the catalog instead of writing them in, so adding a job to
 * `jobs/index.ts` changes them all at once.
 *
 * @example
 * const { jobs, triggers, resources } = catalogCounts(); // 8, 5, 13 today
 * expect(out).toContain(`Plan: ${resources} to create`);
 */
import { catalog as defaultCatalog } from "../../jobs/index.ts";
import { desiredPolicies } from "../../src/ops/alerting/policies.ts";
import type { Target } from "../../src/ops/target.ts";
import { ENVIRONMENTS } from "../../src/runtime/environments.ts";
import type { AnyJob } from "../../src/runtime/job.ts";

const STAGE: Target = {
  env: ENVIRONMENTS.stage,
  endpoints: null,
  runApiBase: "https://run.googleapis.com",
  loggingBase: "https://logging.googleapis.com",
};

export interface CatalogCounts {
  /** Cloud Run jobs: one per catalog job. */
  jobs: number;
  /** Cloud Scheduler triggers: one per scheduled job. */
  triggers: number;
  /** What the plan counts: jobs + triggers. */
  resources: number;
  /** Alert policies create-all-jobs provisions (unless --no-alerts), as src/ops/alerting/policies.ts derives them. */
  policies: number;
  /** Job names in catalog order. */
  names: string[];
  /** Names of the scheduled jobs (the ones with a trigger). */
  scheduled: string[];
}

export function catalogCounts(catalog: readonly AnyJob[] = defaultCatalog): CatalogCounts {
  const scheduled = catalog.filter((job) => job.schedule).map((job) => job.name);
  return {
    jobs: catalog.length,
    triggers: scheduled.length,
    resources: catalog.length + scheduled.length,
    policies: desiredPolicies(catalog, STAGE, ["projects/p/notificationChannels/1"]).policies.size,
    names: catalog.map((job) => job.name),
    scheduled,
  };
}
