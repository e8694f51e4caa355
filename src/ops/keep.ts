/**
 * What a deploy keeps from the job that is already there.
 *
 * - the image (and its source-commit label) when no --image is given: a config-only deploy must never reset
 *   the image;
 * - API_SERVICE_URL when neither --api-url nor the environments table gives one: a shell without the variable
 *   must not plan removing it;
 * - every field this tool does not manage (vpcAccess, command, executionEnvironment, encryptionKey,
 *   annotations, …): an update starts from the deployed job and overlays only the fields the plan diffs, so
 *   what someone set outside this tool survives an apply (the plan cannot show it, so apply must not wipe it).
 *
 * @example
 * const body = keepApiUrl(keepImage(wanted, deployed), deployed);
 * await client.updateJob({ job: overlayManaged(deployed, body) });
 */
import type { RunJob } from "./desired.ts";

const API_URL = "API_SERVICE_URL";

/** `job` with `image` (and the source-commit label when given). */
export function withImage(job: RunJob, image: string, commit: string | undefined): RunJob {
  const copy = structuredClone(job);
  const container = copy.template?.template?.containers?.[0];
  if (container) container.image = image;
  if (commit !== undefined && copy.labels) copy.labels["source-commit"] = commit;
  return copy;
}

/** `wanted` with the deployed image and source-commit label. */
export const keepImage = (wanted: RunJob, deployed: RunJob): RunJob =>
  withImage(
    wanted,
    deployed.template?.template?.containers?.[0]?.image ?? "",
    deployed.labels?.["source-commit"] ?? undefined,
  );

/** `wanted` with the deployed API_SERVICE_URL when `wanted` has none of its own. */
export function keepApiUrl(wanted: RunJob, deployed: RunJob): RunJob {
  const container = wanted.template?.template?.containers?.[0];
  if (!container || container.env?.some((variable) => variable.name === API_URL)) return wanted;
  const current = deployed.template?.template?.containers?.[0]?.env?.find((v) => v.name === API_URL);
  if (!current?.value) return wanted;
  const copy = structuredClone(wanted);
  const env = copy.template?.template?.containers?.[0]?.env ?? [];
  env.push({ name: API_URL, value: current.value });
  env.sort((a, b) => (a.name ?? "").localeCompare(b.name ?? ""));
  return copy;
}

/**
 * The body of an in-place update: the deployed job with exactly the managed fields (those normalize.ts
 * flattens and the plan diffs) taken from `desired`; everything else stays as deployed.
 */
export function overlayManaged(deployed: RunJob, desired: RunJob): RunJob {
  const job = structuredClone(deployed);
  const want = desired.template ?? {};
  const wantTask = want.template ?? {};
  const wantContainer = wantTask.containers?.[0] ?? {};
  job.labels = { ...desired.labels };
  job.template ??= {};
  job.template.taskCount = want.taskCount ?? null;
  job.template.parallelism = want.parallelism ?? null;
  job.template.template ??= {};
  const task = job.template.template;
  task.maxRetries = wantTask.maxRetries ?? null;
  task.timeout = wantTask.timeout ?? null;
  task.serviceAccount = wantTask.serviceAccount ?? null;
  task.containers = task.containers?.length ? task.containers : [{}];
  const container = task.containers[0] ?? {};
  task.containers[0] = container;
  container.image = wantContainer.image ?? null;
  container.args = wantContainer.args ?? [];
  container.env = wantContainer.env ?? [];
  // Only cpu and memory are managed; other limits (nvidia.com/gpu, …) stay as deployed.
  const limits = wantContainer.resources?.limits ?? {};
  container.resources = {
    ...container.resources,
    limits: { ...container.resources?.limits, ...limits },
  };
  return job;
}
