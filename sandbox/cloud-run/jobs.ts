/**
 * Cloud Run v2 job methods: create, get, list, update (allowMissing, validateOnly, etag), delete, run.
 * Each returns the resource or operation JSON (enum names; the server encodes them for the wire).
 */
import { randomUUID } from "node:crypto";
import { ApiError, invalid, notFound } from "../http/errors.ts";
import type { Collection } from "../http/store.ts";
import { decodeEnum, paginate } from "../http/wire.ts";
import type { ExecutionManager, ExecutionResource, Overrides } from "./executions.ts";
import {
  type JobResource,
  normaliseTemplate,
  RUN_ENUMS,
  validateJobId,
  validateLabels,
  validateTaskCount,
  validateTimeout,
} from "./model.ts";
import type { OperationJson, Operations } from "./operations.ts";

export interface JobsDeps {
  jobs: Collection<JobResource>;
  executions: ExecutionManager;
  operations: Operations;
}
type Body = Partial<JobResource> & { etag?: string };

const parentOf = (name: string): string => name.split("/").slice(0, 4).join("/");
const now = (): string => new Date().toISOString();

/**
 * Fields a client writes (google.cloud.run.v2.Job without OUTPUT_ONLY ones). UpdateJob replaces the whole
 * job, so each is taken from the body as given, or dropped when the body leaves it out; `etag` is only a
 * precondition and everything else is computed here.
 */
const WRITABLE = [
  "labels",
  "annotations",
  "client",
  "clientVersion",
  "launchStage",
  "binaryAuthorization",
  "template",
  "startExecutionToken",
  "runExecutionToken",
] as const;

function writable(body: Body): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const key of WRITABLE) if (body[key] !== undefined && body[key] !== null) fields[key] = body[key];
  if (fields.startExecutionToken && fields.runExecutionToken)
    throw invalid("job sets both startExecutionToken and runExecutionToken; they are one of, choose one");
  return structuredClone(fields);
}

function build(name: string, body: Body, previous?: JobResource): JobResource {
  validateLabels(body.labels, "job.labels");
  const template = normaliseTemplate(body.template);
  const stage = decodeEnum(
    body.launchStage,
    RUN_ENUMS.launchStage as Record<string, number>,
    "job.launchStage",
  );
  const time = now();
  const generation = previous ? String(Number(previous.generation) + 1) : "1";
  const ready = { type: "Ready", state: "CONDITION_SUCCEEDED", lastTransitionTime: time };
  return {
    ...writable(body),
    name,
    uid: previous?.uid ?? randomUUID(),
    generation,
    labels: body.labels ?? {},
    annotations: body.annotations ?? {},
    createTime: previous?.createTime ?? time,
    updateTime: time,
    // Google answers GA when the request leaves the stage out (or unspecified).
    launchStage: !stage || stage === "LAUNCH_STAGE_UNSPECIFIED" ? "GA" : stage,
    template,
    observedGeneration: generation,
    terminalCondition: ready,
    conditions: [],
    executionCount: previous?.executionCount ?? 0,
    ...(previous?.latestCreatedExecution ? { latestCreatedExecution: previous.latestCreatedExecution } : {}),
    reconciling: false,
    etag: `"${randomUUID()}"`,
  };
}

/** @example jobMethods(deps).create("projects/p/locations/l", "quota-reset-sandbox", body, false) */
export function jobMethods(deps: JobsDeps) {
  const mustGet = (name: string): JobResource => {
    const job = deps.jobs.get(name);
    if (!job)
      throw notFound(`Job ${name} not found; create it first (createJob) or check project, region and name`);
    return job;
  };
  return {
    get: mustGet,

    create(parent: string, jobId: string, body: Body, validateOnly: boolean): OperationJson {
      validateJobId(jobId);
      const name = `${parent}/jobs/${jobId}`;
      if (deps.jobs.has(name))
        throw new ApiError(
          "ALREADY_EXISTS",
          `Resource '${jobId}' already exists: update it instead (updateJob)`,
        );
      const job = build(name, body);
      if (!validateOnly) deps.jobs.set(name, job);
      return deps.operations.pending(parent, "Job", job);
    },

    list(parent: string, query: URLSearchParams) {
      const all = deps.jobs
        .values()
        .filter((j) => parentOf(j.name) === parent)
        .sort((a, b) => a.name.localeCompare(b.name));
      const { items, nextPageToken } = paginate(all, query);
      return nextPageToken ? { jobs: items, nextPageToken } : { jobs: items };
    },

    update(name: string, body: Body, allowMissing: boolean, validateOnly: boolean): OperationJson {
      const previous = deps.jobs.get(name);
      if (!previous && !allowMissing) mustGet(name);
      if (!previous) validateJobId(name.split("/").at(-1) ?? "");
      if (previous && body.etag && body.etag !== previous.etag)
        throw new ApiError(
          "ABORTED",
          `etag ${body.etag} does not match the current etag of ${name}: get the job again and retry`,
        );
      const job = build(name, body, previous);
      if (!validateOnly) deps.jobs.set(name, job);
      return deps.operations.pending(parentOf(name), "Job", job);
    },

    delete(name: string): OperationJson {
      const job = mustGet(name);
      // The job's executions go with it: running ones are cancelled (and kept until they end).
      for (const execution of deps.executions.deps.executions.values()) {
        if (!execution.name.startsWith(`${name}/executions/`)) continue;
        if (deps.executions.isRunning(execution.name)) deps.executions.cancel(execution.name);
        else deps.executions.delete(execution.name);
      }
      deps.jobs.delete(name);
      return deps.operations.pending(parentOf(name), "Job", job);
    },

    run(name: string, body: { overrides?: Overrides; validateOnly?: boolean }): OperationJson {
      const job = mustGet(name);
      const overrides = body.overrides ?? {};
      const taskCount = overrides.taskCount ?? job.template.taskCount ?? 1;
      validateTaskCount(taskCount, "overrides.taskCount");
      if (overrides.timeout) validateTimeout(overrides.timeout, "overrides.timeout");
      if ((overrides.containerOverrides?.length ?? 0) > (job.template.template?.containers?.length ?? 1))
        throw invalid("overrides.containerOverrides has more entries than the job has containers");
      if (body.validateOnly) return deps.operations.finished(parentOf(name), "Job", job);
      const execution = deps.executions.start(job, overrides, taskCount);
      return deps.operations.forExecution(parentOf(name), execution);
    },
  };
}

const COMPLETION: Record<string, string> = {
  CONDITION_SUCCEEDED: "EXECUTION_SUCCEEDED",
  CONDITION_FAILED: "EXECUTION_FAILED",
};

/** Keeps job.latestCreatedExecution and executionCount in step with its executions. */
export function trackExecution(jobs: Collection<JobResource>, execution: ExecutionResource): void {
  const jobName = execution.name.split("/executions/")[0] as string;
  const job = jobs.get(jobName);
  if (!job) return;
  const latest = job.latestCreatedExecution;
  if (latest?.name !== execution.name) {
    if (latest && latest.createTime > execution.createTime) return;
    job.executionCount += 1;
  }
  const completed = execution.conditions.find((c) => c.type === "Completed");
  const cancelled = completed?.executionReason === "CANCELLED";
  job.latestCreatedExecution = {
    name: execution.name,
    createTime: execution.createTime,
    ...(execution.completionTime ? { completionTime: execution.completionTime } : {}),
    completionStatus: !execution.completionTime
      ? "EXECUTION_RUNNING"
      : cancelled
        ? "EXECUTION_CANCELLED"
        : (COMPLETION[completed?.state ?? ""] ?? "EXECUTION_FAILED"),
  };
  jobs.save();
}
