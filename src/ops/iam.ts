/**
 * The IAM roles each account of an environment needs, scoped the way Google scopes them, as data so the README
 * lists them, the preflight names them and `create-all-jobs <env> --print-iam` turns them into the exact
 * gcloud commands that grant them (a missing role shows up as a 403 whose fix is one of these lines).
 *
 * Scopes: a BigQuery job is created in a project, so `roles/bigquery.jobUser` is granted on the project (on a
 * dataset it grants nothing useful); the rows are edited in one dataset, so `roles/bigquery.dataEditor` goes
 * on that dataset. Cloud Run pulls the image as the project's Cloud Run service agent
 * (service-PROJECT_NUMBER@serverless-robot-prod.iam.gserviceaccount.com), not as the job's account: an image
 * in another project's Artifact Registry needs `roles/artifactregistry.reader` for that agent there.
 *
 * @example
 * for (const [account, roles] of Object.entries(IAM_ROLES)) console.log(account, roles.join(", "));
 * io.stdout.write(iamCommands(ENVIRONMENTS.prod, catalog, { image: "…/jobs@sha256:…" }));
 */
import type { Environment } from "../runtime/environments.ts";
import type { AnyJob } from "../runtime/job.ts";

export const IAM_ROLES = {
  /** Whoever runs create-all-jobs / run-job / list-jobs / release (an operator or CI). */
  deployer: [
    "roles/run.developer on the project — create, update, run and cancel Cloud Run jobs (run.jobs.runWithOverrides included)",
    "roles/cloudscheduler.admin on the project — create, update, pause and delete Scheduler jobs",
    "roles/secretmanager.viewer on the project — preflight checks that the referenced secrets exist",
    "roles/logging.viewer on the project — read an execution's logs",
    "roles/iam.serviceAccountUser on the job and invoker accounts — deploy jobs and triggers that act as them",
  ],
  /** `jobServiceAccount`: what the containers run as. */
  job: [
    "roles/secretmanager.secretAccessor on each secret it reads (ca-root-api-key-*, supabase-access-token-*)",
    "roles/bigquery.jobUser on the project — BigQuery jobs are created in a project (quota-cleanup)",
    "roles/bigquery.dataEditor on the organizations dataset — the rows quota-cleanup deletes",
    "roles/run.viewer on the project — the overlap guard lists executions of its own job",
  ],
  /** `invokerServiceAccount`: what Cloud Scheduler calls `:run` as (OAuth token, cloud-platform scope). */
  invoker: ["roles/run.invoker on each scheduled Cloud Run job"],
  /** The project's Cloud Run service agent, which pulls the image. */
  serviceAgent: [
    "roles/artifactregistry.reader on the image's repository — needed when it is in another project's Artifact Registry (e.g. prod deploying an image built in cloudact-testing-1)",
  ],
} as const;

/** The organizations dataset quota-cleanup deletes from (CONTRACT §3). */
const DATASET = "organizations";

/** `REGION-docker.pkg.dev/PROJECT/REPOSITORY/…` → its parts; null for other registries. */
export function artifactRepository(
  image: string,
): { location: string; project: string; repository: string } | null {
  const match = /^([a-z0-9-]+)-docker\.pkg\.dev\/([a-z0-9-:.]+)\/([a-z0-9_-]+)\//.exec(image);
  if (!match) return null;
  return { location: match[1] as string, project: match[2] as string, repository: match[3] as string };
}

/**
 * A shell script of the gcloud (and one bq) commands that grant every role of IAM_ROLES for `env`. The
 * deploying identity is `$DEPLOYER` (`user:…` or `serviceAccount:…`), which the script asks for.
 */
export function iamCommands(
  env: Environment,
  catalog: readonly AnyJob[],
  options: { image?: string | undefined } = {},
): string {
  const p = env.project;
  const runner = `serviceAccount:${env.jobServiceAccount}`;
  const invoker = `serviceAccount:${env.invokerServiceAccount}`;
  const project = (member: string, role: string) =>
    `gcloud projects add-iam-policy-binding ${p} --member="${member}" --role=${role} --condition=None`;
  const lines = [
    `#!/usr/bin/env bash`,
    `# IAM for ${env.name} (project ${p}, region ${env.region}): every role README "IAM roles each account needs" lists.`,
    `# DEPLOYER is who runs the scripts: DEPLOYER=user:you@example.com or DEPLOYER=serviceAccount:ci@….`,
    `set -euo pipefail`,
    `: "\${DEPLOYER:?set DEPLOYER=user:… or serviceAccount:… (who runs create-all-jobs, run-job, list-jobs, release)}"`,
    "",
    "# Operator or CI",
    ...[
      "roles/run.developer",
      "roles/cloudscheduler.admin",
      "roles/secretmanager.viewer",
      "roles/logging.viewer",
    ].map((role) => project("$DEPLOYER", role)),
    ...[env.jobServiceAccount, env.invokerServiceAccount].map(
      (account) =>
        `gcloud iam service-accounts add-iam-policy-binding ${account} --project=${p} --member="$DEPLOYER" --role=roles/iam.serviceAccountUser`,
    ),
    "",
    `# Job service account ${env.jobServiceAccount}`,
    ...[env.secrets.caRootApiKey, env.secrets.supabaseAccessToken].map(
      (secret) =>
        `gcloud secrets add-iam-policy-binding ${secret} --project=${p} --member="${runner}" --role=roles/secretmanager.secretAccessor`,
    ),
    project(runner, "roles/bigquery.jobUser"),
    `bq add-iam-policy-binding --member="${runner}" --role=roles/bigquery.dataEditor ${p}:${DATASET}`,
    project(runner, "roles/run.viewer"),
    "",
    `# Scheduler invoker account ${env.invokerServiceAccount} (after create-all-jobs has created the jobs)`,
    ...catalog
      .filter((job) => job.schedule)
      .map(
        (job) =>
          `gcloud run jobs add-iam-policy-binding ${job.name}${env.resourceSuffix} --project=${p} --region=${env.region} --member="${invoker}" --role=roles/run.invoker`,
      ),
  ];
  const image = artifactRepository(options.image ?? env.imageRepository);
  if (image) {
    const agent = `service-$(gcloud projects describe ${p} --format='value(projectNumber)')@serverless-robot-prod.iam.gserviceaccount.com`;
    lines.push(
      "",
      `# Cloud Run service agent of ${p}: pulls the image from ${image.project}/${image.repository}${image.project === p ? " (same project: already allowed; kept for completeness)" : ""}`,
      `gcloud artifacts repositories add-iam-policy-binding ${image.repository} --project=${image.project} --location=${image.location} --member="serviceAccount:${agent}" --role=roles/artifactregistry.reader`,
    );
  }
  return `${lines.join("\n")}\n`;
}
