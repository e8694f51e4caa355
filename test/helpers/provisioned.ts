/**
 * What create-all-jobs provisions, counted from the catalog alone (never from the code under test), and the
 * notification channels an environment's alert policies need, created in the Monitoring emulator as people
 * create them in Google's (the official client's `createNotificationChannel`).
 *
 * @example
 * await createAlertChannels(sandbox.urls.monitoring, ENVIRONMENTS.stage);
 * expect(out).toContain(`Applied: ${provisioned(catalog).all} done, 0 failed.`);
 */
import { NotificationChannelServiceClient } from "@google-cloud/monitoring";
import { googleAuthLibrary } from "google-gax";
import type { AnyJob } from "../../src/runtime/job.ts";

/** Jobs, their triggers (scheduled jobs), alert policies (failed-run, missed-run per trigger, overrun per job). */
export function provisioned(catalog: readonly AnyJob[]) {
  const jobs = catalog.length;
  const triggers = catalog.filter((job) => job.schedule).length;
  const policies = 1 + triggers + jobs;
  return { jobs, triggers, policies, resources: jobs + triggers, all: jobs + triggers + policies };
}

/** Creates each of the environment's channels (display names of its `alertChannels`) in its project. */
export async function createAlertChannels(
  monitoringUrl: string,
  env: { project: string; alertChannels: readonly string[] },
): Promise<string[]> {
  const url = new URL(monitoringUrl);
  const client = new NotificationChannelServiceClient({
    apiEndpoint: url.hostname,
    port: Number(url.port),
    protocol: "http",
    fallback: true,
    auth: new googleAuthLibrary.GoogleAuth({ authClient: new googleAuthLibrary.PassThroughClient() }),
  });
  try {
    const names: string[] = [];
    for (const displayName of env.alertChannels) {
      const [channel] = await client.createNotificationChannel({
        name: `projects/${env.project}`,
        notificationChannel: { type: "email", displayName, labels: { email_address: "oncall@example.com" } },
      });
      names.push(channel.name ?? "");
    }
    return names;
  } finally {
    await client.close();
  }
}
