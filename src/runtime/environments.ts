/**
 * The environments of the suite, in one typed table (DESIGN.md "Environments").
 *
 * test and stage share a GCP project, so every resource name and label carries the environment.
 * `local` is deliberately absent: use the sandbox (`npm run sandbox`) or an in-process run (`npm run job`).
 */
export const ENVIRONMENT_NAMES = ["test", "stage", "prod", "sandbox"] as const;
export type EnvironmentName = (typeof ENVIRONMENT_NAMES)[number];

export interface Environment {
  name: EnvironmentName;
  /** Value of ENVIRONMENT the jobs see (the admin API's own vocabulary). */
  label: "testing" | "staging" | "production" | "sandbox";
  project: string;
  region: string;
  /** Suffix of every Cloud Run job and Scheduler job name: `quota-reset-stage`. */
  resourceSuffix: string;
  /** Secret Manager secret ids. */
  secrets: { caRootApiKey: string; supabaseAccessToken: string };
  /** Admin API base URL (API_SERVICE_URL overrides it). Null: must be configured. */
  apiUrl: string | null;
  supabaseProjectRef: string;
  /** Artifact Registry repository of the jobs image (without tag or digest). */
  imageRepository: string;
  /** Account the jobs run as (needs secretAccessor on the secrets). */
  jobServiceAccount: string;
  /** Account Cloud Scheduler uses to call `:run` (needs run.invoker on the jobs). */
  invokerServiceAccount: string;
  /** Operators must confirm every change or run. */
  requiresConfirmation: boolean;
  /**
   * Cloud Monitoring notification channels (display names) the alert policies notify. They are created by
   * people (an e-mail, Slack or PagerDuty channel), never by this suite; create-all-jobs refuses to deploy
   * alerts when one is missing.
   */
  alertChannels: readonly string[];
}

const testingProject = "cloudact-testing-1";
const region = "us-central1";

export const ENVIRONMENTS: Readonly<Record<EnvironmentName, Environment>> = {
  test: {
    name: "test",
    label: "testing",
    project: testingProject,
    region,
    resourceSuffix: "-test",
    secrets: { caRootApiKey: "ca-root-api-key-test", supabaseAccessToken: "supabase-access-token-test" },
    apiUrl: null,
    supabaseProjectRef: "kwroaccbrxppfiysqlzs",
    imageRepository: `${region}-docker.pkg.dev/${testingProject}/scheduler-jobs/jobs`,
    jobServiceAccount: `scheduler-jobs-runner@${testingProject}.iam.gserviceaccount.com`,
    invokerServiceAccount: `scheduler-jobs-invoker@${testingProject}.iam.gserviceaccount.com`,
    requiresConfirmation: false,
    alertChannels: ["scheduler-jobs on-call (test)"],
  },
  stage: {
    name: "stage",
    label: "staging",
    project: testingProject,
    region,
    resourceSuffix: "-stage",
    secrets: { caRootApiKey: "ca-root-api-key-test", supabaseAccessToken: "supabase-access-token-test" },
    apiUrl: null,
    supabaseProjectRef: "kwroaccbrxppfiysqlzs",
    imageRepository: `${region}-docker.pkg.dev/${testingProject}/scheduler-jobs/jobs`,
    jobServiceAccount: `scheduler-jobs-runner@${testingProject}.iam.gserviceaccount.com`,
    invokerServiceAccount: `scheduler-jobs-invoker@${testingProject}.iam.gserviceaccount.com`,
    requiresConfirmation: false,
    alertChannels: ["scheduler-jobs on-call (stage)"],
  },
  prod: {
    name: "prod",
    label: "production",
    project: "cloudact-prod",
    region,
    resourceSuffix: "-prod",
    secrets: { caRootApiKey: "ca-root-api-key-prod", supabaseAccessToken: "supabase-access-token-prod" },
    apiUrl: "https://api.cloudact.ai",
    supabaseProjectRef: "ovfxswhkkshouhsryzaf",
    imageRepository: `${region}-docker.pkg.dev/cloudact-prod/scheduler-jobs/jobs`,
    jobServiceAccount: "scheduler-jobs-runner@cloudact-prod.iam.gserviceaccount.com",
    invokerServiceAccount: "scheduler-jobs-invoker@cloudact-prod.iam.gserviceaccount.com",
    requiresConfirmation: true,
    alertChannels: ["scheduler-jobs on-call (prod)"],
  },
  sandbox: {
    name: "sandbox",
    label: "sandbox",
    project: "sandbox-project",
    region,
    resourceSuffix: "-sandbox",
    secrets: {
      caRootApiKey: "ca-root-api-key-sandbox",
      supabaseAccessToken: "supabase-access-token-sandbox",
    },
    // The sandbox's URLs are only known once it runs: taken from its endpoints (env or .sandbox/endpoints.json).
    apiUrl: null,
    supabaseProjectRef: "sandboxprojectref000",
    imageRepository: "sandbox.local/scheduler-jobs/jobs",
    jobServiceAccount: "scheduler-jobs-runner@sandbox-project.iam.gserviceaccount.com",
    invokerServiceAccount: "scheduler-jobs-invoker@sandbox-project.iam.gserviceaccount.com",
    requiresConfirmation: false,
    alertChannels: ["Sandbox on-call"],
  },
};

/** Names an operator may mistake for an environment, with the way to get what they meant. */
export const REFUSED_ENVIRONMENTS: Readonly<Record<string, string>> = {
  local:
    '"local" is not an environment: start the sandbox with `npm run sandbox` and use the "sandbox" environment, or run a job in-process with `npm run job -- <job>`.',
};

export const isEnvironmentName = (value: string): value is EnvironmentName =>
  (ENVIRONMENT_NAMES as readonly string[]).includes(value);
