/**
 * The IAM roles each account of an environment needs, as data so the README can list them and the
 * preflight can name them (a missing role shows up as a 403 whose fix is one of these lines).
 *
 * @example
 * for (const [account, roles] of Object.entries(IAM_ROLES)) console.log(account, roles.join(", "));
 */
export const IAM_ROLES = {
  /** Whoever runs create-all-jobs / run-job / list-jobs / release (an operator or CI). */
  deployer: [
    "roles/run.developer — create, update, run and cancel Cloud Run jobs (run.jobs.runWithOverrides included)",
    "roles/cloudscheduler.admin — create, update, pause and delete Scheduler jobs",
    "roles/secretmanager.viewer — preflight checks that the referenced secrets exist",
    "roles/logging.viewer — read an execution's logs",
    "roles/iam.serviceAccountUser on the job and invoker accounts — deploy jobs and triggers that act as them",
  ],
  /** `jobServiceAccount`: what the containers run as. */
  job: [
    "roles/secretmanager.secretAccessor on the secrets it reads (ca-root-api-key-*, supabase-access-token-*)",
    "roles/bigquery.jobUser and roles/bigquery.dataEditor on the organizations dataset (quota-cleanup)",
    "roles/run.viewer — the overlap guard lists executions of its own job",
  ],
  /** `invokerServiceAccount`: what Cloud Scheduler calls `:run` as (OAuth token, cloud-platform scope). */
  invoker: ["roles/run.invoker on the scheduled jobs"],
} as const;
