/**
 * The official Google clients, created lazily (each import costs ~150 ms) and pointed at the target.
 *
 * Where requests go and how credentials are found are separate: an endpoint override (CLOUD_RUN_API_URL, …)
 * only moves the requests (REST transport on plain HTTP for a loopback emulator); the credentials are the
 * ones resolveTarget checked (`target.credentials`, Application Default Credentials, credentials.ts) for
 * every environment but `sandbox`, which alone uses the sandbox's pass-through auth. Every method but
 * `runJob` is retried on transient failures (retry.ts).
 *
 * @example
 * const clients = createClients(target);
 * const [jobs] = await (await clients.jobs()).listJobs({ parent: target.parent });
 */
import type { AlertPolicyServiceClient, NotificationChannelServiceClient } from "@google-cloud/monitoring";
import type { ExecutionsClient, JobsClient } from "@google-cloud/run";
import type { CloudSchedulerClient } from "@google-cloud/scheduler";
import type { SecretManagerServiceClient } from "@google-cloud/secret-manager";
import type { ClientOptions } from "google-gax";
import { ConfigError } from "../runtime/errors.ts";
import { CREDENTIALS_FIX } from "./credentials.ts";
import { retryingClient } from "./retry.ts";
import type { Target } from "./target.ts";

export interface Clients {
  jobs(): Promise<JobsClient>;
  executions(): Promise<ExecutionsClient>;
  scheduler(): Promise<CloudSchedulerClient>;
  secrets(): Promise<SecretManagerServiceClient>;
  /** Cloud Monitoring (alerting/): the sandbox's emulator at MONITORING_API_URL, else Google's. */
  alertPolicies(): Promise<AlertPolicyServiceClient>;
  notificationChannels(): Promise<NotificationChannelServiceClient>;
  /** A bearer token for REST calls without a client library (Cloud Logging); null in the sandbox environment. */
  accessToken(): Promise<string | null>;
  close(): Promise<void>;
}

/** Where a client sends its requests: Google, or the endpoint override (an emulator on loopback). */
function endpointOptions(url: string | undefined): ClientOptions {
  if (!url) return {};
  const parsed = new URL(url);
  return {
    apiEndpoint: parsed.hostname,
    port: Number(parsed.port || (parsed.protocol === "https:" ? 443 : 80)),
    protocol: parsed.protocol.replace(":", "") as "http" | "https",
    fallback: true,
  };
}

/** How a client authenticates: the checked ADC, or pass-through for the sandbox environment only. */
async function authOptions(target: Target): Promise<ClientOptions> {
  if (target.credentials) return { auth: target.credentials.auth };
  const { googleAuthLibrary } = await import("google-gax");
  return {
    auth: new googleAuthLibrary.GoogleAuth({ authClient: new googleAuthLibrary.PassThroughClient() }),
  };
}

function once<T>(make: () => Promise<T>): () => Promise<T> {
  let value: Promise<T> | undefined;
  return () => {
    value ??= make();
    return value;
  };
}

/** What every Google client has: `initialize()` creates its stub (and reads the credentials), `close()`. */
interface GoogleClient {
  initialize(): Promise<unknown>;
  close(): Promise<void>;
}

/**
 * Clients bound to the target's endpoints; nothing is imported until first use.
 *
 * Each client is initialised when made, so a credentials problem (an unreadable or malformed key file)
 * rejects the `await clients.jobs()` that the command awaits. Left to the first call, the generated
 * clients re-throw it from an un-awaited `initialize().catch(…)`: an unhandled rejection that ends the
 * process with a stack trace.
 */
export function createClients(target: Target): Clients {
  const options = async (url: string | undefined): Promise<ClientOptions> => ({
    projectId: target.env.project,
    ...endpointOptions(url),
    ...(await authOptions(target)),
  });
  const made: GoogleClient[] = [];
  const ready = async <T extends GoogleClient>(client: T, api: string): Promise<T> => {
    made.push(client);
    try {
      await client.initialize();
    } catch (error) {
      throw credentialsError(error, api, target);
    }
    return retryingClient(client);
  };
  return {
    jobs: once(async () => {
      const { JobsClient } = await import("@google-cloud/run");
      return ready(new JobsClient(await options(target.endpoints?.cloudRun)), "Cloud Run");
    }),
    executions: once(async () => {
      const { ExecutionsClient } = await import("@google-cloud/run");
      return ready(new ExecutionsClient(await options(target.endpoints?.cloudRun)), "Cloud Run");
    }),
    scheduler: once(async () => {
      const { CloudSchedulerClient } = await import("@google-cloud/scheduler");
      return ready(new CloudSchedulerClient(await options(target.endpoints?.scheduler)), "Cloud Scheduler");
    }),
    secrets: once(async () => {
      const { SecretManagerServiceClient } = await import("@google-cloud/secret-manager");
      return ready(
        new SecretManagerServiceClient(await options(target.endpoints?.secretManager)),
        "Secret Manager",
      );
    }),
    alertPolicies: once(async () => {
      const { AlertPolicyServiceClient } = await import("@google-cloud/monitoring");
      return ready(new AlertPolicyServiceClient(await options(monitoringUrl(target))), "Cloud Monitoring");
    }),
    notificationChannels: once(async () => {
      const { NotificationChannelServiceClient } = await import("@google-cloud/monitoring");
      return ready(
        new NotificationChannelServiceClient(await options(monitoringUrl(target))),
        "Cloud Monitoring",
      );
    }),
    accessToken: async () => {
      // Not cached: google-auth caches the token and refreshes it before it expires.
      if (!target.credentials) return null;
      try {
        return (await target.credentials.auth.getAccessToken()) ?? null;
      } catch (error) {
        throw credentialsError(error, "Cloud Logging", target);
      }
    },
    async close() {
      await Promise.allSettled(made.map((client) => client.close()));
    },
  };
}

/** An emulator target must have a Monitoring emulator too: never Google's API from the sandbox. */
function monitoringUrl(target: Target): string | undefined {
  if (!target.endpoints) return undefined;
  const url = target.endpoints.env.MONITORING_API_URL;
  if (!url)
    throw new ConfigError(
      `the emulator at ${target.endpoints.cloudRun} publishes no MONITORING_API_URL: restart the sandbox (npm run sandbox), or pass --no-alerts`,
    );
  return url;
}

/** A failure to set up a client, with the credentials it used and the fix. */
function credentialsError(error: unknown, api: string, target: Target): Error {
  const message = error instanceof Error ? error.message : String(error);
  if (!target.credentials) return new Error(`cannot reach ${api}: ${message}`, { cause: error });
  return new Error(
    `cannot use the Google credentials (${target.credentials.source}) for ${api}: ${message}; ${CREDENTIALS_FIX}`,
    { cause: error },
  );
}

/** `projects/{p}/locations/{r}`: the parent of every job of the target. */
export const parentOf = (target: Target): string =>
  `projects/${target.env.project}/locations/${target.env.region}`;
