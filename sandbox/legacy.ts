/**
 * Seeds what the old scripts left in a project (CONTRACT §5): their Cloud Run jobs and, for the scheduled ones,
 * an ENABLED Scheduler job named `<job>-trigger`, created through the emulators' own REST APIs like any
 * client would. The sandbox cannot run the old Python scripts: a legacy task runs the image's `--version`,
 * which costs one process start and does no work — enough to count how often each slot runs.
 *
 * @example
 * await seedLegacy({ cloudRun: sandbox.urls.cloudRun, scheduler: sandbox.urls.scheduler }, "sandbox-project", "us-central1");
 */

/** Old job name → its cron (UTC), or null for a manual job (no trigger). */
export const LEGACY_RESOURCES: Readonly<Record<string, string | null>> = {
  "cloudact-manual-supabase-migrate": null,
  "cloudact-manual-bootstrap": null,
  "cloudact-manual-bootstrap-sync": null,
  "cloudact-manual-org-sync-all": null,
  "cloudact-daily-quota-reset": "0 0 * * *",
  "cloudact-daily-quota-cleanup": "0 1 * * *",
  "cloudact-daily-stale-cleanup": "0 2 * * *",
  "cloudact-daily-alerts": "0 8 * * *",
  "cloudact-monthly-quota-reset": "5 0 1 * *",
  "cloudact-daily-pipelines": "0 6 * * *",
  // A name from before the category prefix that a project may still hold.
  "cloudact-quota-reset-daily": "0 0 * * *",
};

async function call(url: string, method: string, body: unknown): Promise<unknown> {
  const response = await fetch(url, {
    method,
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!response.ok)
    throw new Error(
      `seeding legacy resources: ${method} ${url}: ${response.status} ${await response.text()}`,
    );
  return response.json();
}

async function waitForJob(url: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if ((await fetch(url)).ok) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`seeding legacy resources: ${url} never appeared`);
}

export async function seedLegacy(
  urls: { cloudRun: string; scheduler: string },
  project: string,
  location: string,
): Promise<void> {
  const parent = `projects/${project}/locations/${location}`;
  const account = `cloudact-jobs@${project}.iam.gserviceaccount.com`;
  await Promise.all(
    Object.entries(LEGACY_RESOURCES).map(async ([id, cron]) => {
      const job = {
        template: {
          template: {
            containers: [
              {
                image: `${location}-docker.pkg.dev/${project}/cloudact/cloudact-jobs-test`,
                args: ["--version"],
              },
            ],
            maxRetries: 0,
            serviceAccount: account,
          },
        },
      };
      await call(`${urls.cloudRun}/v2/${parent}/jobs?jobId=${id}`, "POST", job);
      await waitForJob(`${urls.cloudRun}/v2/${parent}/jobs/${id}`);
      if (!cron) return;
      await call(`${urls.scheduler}/v1/${parent}/jobs`, "POST", {
        name: `${parent}/jobs/${id}-trigger`,
        description: `${id} (created by the old create-all-jobs.sh)`,
        schedule: cron,
        timeZone: "UTC",
        httpTarget: {
          uri: `https://run.googleapis.com/v2/${parent}/jobs/${id}:run`,
          httpMethod: "POST",
          oauthToken: { serviceAccountEmail: account },
        },
      });
    }),
  );
}
