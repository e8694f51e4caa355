/**
 * The official Google clients, created lazily (each import costs ~150 ms) and pointed at the target.
 *
 * Emulator targets get the REST transport on plain HTTP with a pass-through auth client, so the code path is
 * the production one but nothing probes the metadata server. Google targets use Application Default Credentials.
 *
 * @example
 * const clients = createClients(target);
 * const [jobs] = await (await clients.jobs()).listJobs({ parent: target.parent });
 */
import type { ExecutionsClient, JobsClient } from "@google-cloud/run";
import type { CloudSchedulerClient } from "@google-cloud/scheduler";
import type { SecretManagerServiceClient } from "@google-cloud/secret-manager";
import type { ClientOptions } from "google-gax";
import type { Target } from "./target.ts";

export interface Clients {
  jobs(): Promise<JobsClient>;
  executions(): Promise<ExecutionsClient>;
  scheduler(): Promise<CloudSchedulerClient>;
  secrets(): Promise<SecretManagerServiceClient>;
  /** A bearer token for REST calls without a client library (Cloud Logging); null for emulators. */
  accessToken(): Promise<string | null>;
  close(): Promise<void>;
}

async function emulatorOptions(url: string): Promise<ClientOptions> {
  const { googleAuthLibrary } = await import("google-gax");
  const parsed = new URL(url);
  return {
    apiEndpoint: parsed.hostname,
    port: Number(parsed.port || (parsed.protocol === "https:" ? 443 : 80)),
    protocol: parsed.protocol.replace(":", "") as "http" | "https",
    fallback: true,
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

/** Clients bound to the target's endpoints; nothing is imported until first use. */
export function createClients(target: Target): Clients {
  const options = (url: string | undefined): Promise<ClientOptions> =>
    url ? emulatorOptions(url) : Promise.resolve({ projectId: target.env.project });
  const made: { close(): Promise<void> }[] = [];
  const track = <T extends { close(): Promise<void> }>(client: T): T => {
    made.push(client);
    return client;
  };
  return {
    jobs: once(async () => {
      const { JobsClient } = await import("@google-cloud/run");
      return track(new JobsClient(await options(target.endpoints?.cloudRun)));
    }),
    executions: once(async () => {
      const { ExecutionsClient } = await import("@google-cloud/run");
      return track(new ExecutionsClient(await options(target.endpoints?.cloudRun)));
    }),
    scheduler: once(async () => {
      const { CloudSchedulerClient } = await import("@google-cloud/scheduler");
      return track(new CloudSchedulerClient(await options(target.endpoints?.scheduler)));
    }),
    secrets: once(async () => {
      const { SecretManagerServiceClient } = await import("@google-cloud/secret-manager");
      return track(new SecretManagerServiceClient(await options(target.endpoints?.secretManager)));
    }),
    accessToken: once(async () => {
      if (target.endpoints) return null;
      const { googleAuthLibrary } = await import("google-gax");
      const auth = new googleAuthLibrary.GoogleAuth({
        scopes: ["https://www.googleapis.com/auth/cloud-platform"],
      });
      return (await auth.getAccessToken()) ?? null;
    }),
    async close() {
      await Promise.allSettled(made.map((client) => client.close()));
    },
  };
}

/** `projects/{p}/locations/{r}`: the parent of every job of the target. */
export const parentOf = (target: Target): string =>
  `projects/${target.env.project}/locations/${target.env.region}`;
