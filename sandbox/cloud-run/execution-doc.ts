/**
 * An execution's document as the REST API shows it, built at runJob from the job's template plus the
 * overrides, with its task env resolved (secrets included) the way Cloud Run does at task start.
 */
import { randomUUID } from "node:crypto";
import type { Condition, Container, EnvVar, JobResource, ResourceMeta, TaskTemplate } from "./model.ts";

export interface ExecutionResource extends ResourceMeta {
  startTime?: string;
  completionTime?: string;
  job: string;
  parallelism: number;
  taskCount: number;
  template: TaskTemplate;
  reconciling: boolean;
  conditions: Condition[];
  observedGeneration: string;
  runningCount: number;
  succeededCount: number;
  failedCount: number;
  cancelledCount: number;
  retriedCount: number;
  logUri: string;
  etag: string;
}
export interface Overrides {
  containerOverrides?: { name?: string; args?: string[]; env?: EnvVar[]; clearArgs?: boolean }[];
  taskCount?: number;
  timeout?: string;
}
export const now = (): string => new Date().toISOString();
export const condition = (type: string, state: string, extra: Partial<Condition> = {}): Condition => ({
  type,
  state,
  lastTransitionTime: now(),
  ...extra,
});
const suffix = (): string =>
  Array.from(
    { length: 5 },
    () => "abcdefghijklmnopqrstuvwxyz0123456789"[Math.floor(Math.random() * 36)],
  ).join("");

/** Applies containerOverrides to a copy of the task template (overrides win; env merged by name). */
function applyOverrides(template: TaskTemplate, overrides: Overrides): TaskTemplate {
  const task = structuredClone(template);
  if (overrides.timeout) task.timeout = overrides.timeout;
  for (const [i, o] of (overrides.containerOverrides ?? []).entries()) {
    const container = task.containers?.find((c) => o.name && c.name === o.name) ?? task.containers?.[i];
    if (!container) continue;
    if (o.clearArgs) container.args = [];
    if (o.args?.length) container.args = o.args;
    const env = new Map((container.env ?? []).map((e) => [e.name, e]));
    for (const e of o.env ?? []) env.set(e.name, e);
    container.env = [...env.values()];
  }
  return task;
}

/**
 * Builds a new execution of `job` and the env of its tasks; `setupError` says why no task can start.
 * @example const { execution, env } = newExecution(job, { taskCount: 2 }, 2, { baseEnv, secret, logUri });
 */
export function newExecution(
  job: JobResource,
  overrides: Overrides,
  taskCount: number,
  deps: {
    baseEnv: Record<string, string>;
    secret: (secret: string, version: string) => string | undefined;
    logUri: (name: string) => string;
  },
): { execution: ExecutionResource; container: Container; env: Record<string, string>; setupError?: string } {
  const jobId = job.name.split("/").at(-1) as string;
  const name = `${job.name}/executions/${jobId}-${suffix()}`;
  const template = applyOverrides(job.template.template ?? {}, overrides);
  const container = template.containers?.[0] ?? {};
  const env: Record<string, string> = { ...deps.baseEnv };
  let setupError: string | undefined;
  for (const e of container.env ?? []) {
    const ref = e.valueSource?.secretKeyRef;
    if (!ref?.secret) {
      env[e.name] = e.value ?? "";
      continue;
    }
    const value = deps.secret(ref.secret, ref.version ?? "latest");
    if (value !== undefined) env[e.name] = value;
    else
      setupError ??= `secret "${ref.secret}" version "${ref.version ?? "latest"}" (env ${e.name}) was not found in Secret Manager: create it or fix the job's secretKeyRef`;
  }
  const time = now();
  const execution: ExecutionResource = {
    name,
    uid: randomUUID(),
    generation: "1",
    labels: { ...job.template.labels, "run.googleapis.com/job": jobId },
    annotations: { ...job.template.annotations },
    createTime: time,
    startTime: time,
    updateTime: time,
    launchStage: "GA",
    job: jobId,
    parallelism: job.template.parallelism ?? 0,
    taskCount,
    template,
    reconciling: true,
    conditions: [
      condition("ResourcesAvailable", "CONDITION_SUCCEEDED"),
      condition("Started", "CONDITION_SUCCEEDED"),
      condition("Completed", "CONDITION_RECONCILING", { message: `0 of ${taskCount} tasks completed.` }),
    ],
    observedGeneration: "1",
    runningCount: 0,
    succeededCount: 0,
    failedCount: 0,
    cancelledCount: 0,
    retriedCount: 0,
    logUri: deps.logUri(name),
    etag: `"${randomUUID()}"`,
  };
  return { execution, container, env, ...(setupError ? { setupError } : {}) };
}
