/**
 * Shared by the cloud emulator tests: the real `@google-cloud/*` clients pointed at a sandbox through
 * their REST transport, exactly as CONTRACT.md §4 says, and the fixture task entry.
 */
import { fileURLToPath } from "node:url";
import { ExecutionsClient, JobsClient } from "@google-cloud/run";
import { CloudSchedulerClient } from "@google-cloud/scheduler";
import { SecretManagerServiceClient } from "@google-cloud/secret-manager";
import { googleAuthLibrary } from "google-gax";

export const PROJECT = "sandbox-project";
export const PARENT = `projects/${PROJECT}/locations/us-central1`;
/** Plain node runs the fixture (Node 24 strips its types): tasks start fast. */
export const FIXTURE_ENTRY = [
  process.execPath,
  fileURLToPath(new URL("../../fixtures/entry-task.ts", import.meta.url)),
];

const options = (url: string) => ({
  apiEndpoint: "127.0.0.1",
  port: Number(new URL(url).port),
  protocol: "http",
  fallback: true as const,
  // Without an injected auth client the library probes the metadata server (not loopback).
  auth: new googleAuthLibrary.GoogleAuth({ authClient: new googleAuthLibrary.PassThroughClient() }),
});

/** A Cloud Run JobsClient on the emulator at `url` (REST, pass-through auth). */
export const jobsClient = (url: string) => new JobsClient(options(url));
export const runClients = (url: string) => ({
  jobs: new JobsClient(options(url)),
  executions: new ExecutionsClient(options(url)),
});
export const schedulerClient = (url: string) => new CloudSchedulerClient(options(url));
export const secretClient = (url: string) => new SecretManagerServiceClient(options(url));

/** A minimal valid job body; `args` are the container args handed to the fixture entry. */
export function jobBody(
  args: string[],
  extra: {
    taskCount?: number;
    parallelism?: number;
    maxRetries?: number;
    timeoutSeconds?: number;
    env?: unknown[];
  } = {},
) {
  return {
    labels: { env: "sandbox", "managed-by": "scheduler-jobs" },
    template: {
      taskCount: extra.taskCount ?? 1,
      ...(extra.parallelism !== undefined ? { parallelism: extra.parallelism } : {}),
      template: {
        maxRetries: extra.maxRetries ?? 0,
        timeout: { seconds: extra.timeoutSeconds ?? 60 },
        containers: [
          { image: "sandbox.local/scheduler-jobs/jobs:dev", args, env: (extra.env ?? []) as never[] },
        ],
      },
    },
  };
}

/** Polls until `check` returns a value (or the time is up). */
export async function waitFor<T>(
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 15_000,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`waitFor: condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
