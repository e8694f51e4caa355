/**
 * The Cloud Run v2 resources as the REST API spells them (enum names in storage; numbers only on the wire
 * when asked), with the validation Google applies to the fields this suite uses.
 */
import { invalid } from "../http/errors.ts";
import { decodeEnum, type EnumTables, parseDuration } from "../http/wire.ts";

export interface EnvVar {
  name: string;
  value?: string;
  valueSource?: { secretKeyRef?: { secret?: string; version?: string } };
}
export interface Container {
  name?: string;
  image?: string;
  command?: string[];
  args?: string[];
  env?: EnvVar[];
  resources?: unknown;
}
export interface TaskTemplate {
  containers?: Container[];
  maxRetries?: number;
  timeout?: string;
  serviceAccount?: string;
  executionEnvironment?: string;
  [field: string]: unknown;
}
export interface ExecutionTemplate {
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  taskCount?: number;
  parallelism?: number;
  template?: TaskTemplate;
}
export interface Condition {
  type: string;
  state: string;
  message?: string;
  lastTransitionTime: string;
  severity?: string;
  executionReason?: string;
}
/** The metadata every Cloud Run v2 resource carries (Job, Execution). */
export interface ResourceMeta {
  name: string;
  uid: string;
  generation: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  createTime: string;
  updateTime: string;
  launchStage: string;
}

export interface JobResource extends ResourceMeta {
  template: ExecutionTemplate;
  observedGeneration: string;
  terminalCondition: Condition;
  conditions: Condition[];
  executionCount: number;
  latestCreatedExecution?: {
    name: string;
    createTime: string;
    completionTime?: string;
    completionStatus: string;
  };
  reconciling: boolean;
  etag: string;
  [field: string]: unknown;
}

/** Enum fields of Cloud Run v2 resources, for `encodeEnums` (values from the client's protos.json). */
export const RUN_ENUMS: EnumTables = {
  state: {
    STATE_UNSPECIFIED: 0,
    CONDITION_PENDING: 1,
    CONDITION_RECONCILING: 2,
    CONDITION_FAILED: 3,
    CONDITION_SUCCEEDED: 4,
  },
  severity: { SEVERITY_UNSPECIFIED: 0, ERROR: 1, WARNING: 2, INFO: 3 },
  executionReason: {
    EXECUTION_REASON_UNDEFINED: 0,
    JOB_STATUS_SERVICE_POLLING_ERROR: 1,
    NON_ZERO_EXIT_CODE: 2,
    CANCELLED: 3,
    CANCELLING: 4,
    DELETED: 5,
  },
  launchStage: {
    LAUNCH_STAGE_UNSPECIFIED: 0,
    UNIMPLEMENTED: 6,
    PRELAUNCH: 7,
    EARLY_ACCESS: 1,
    ALPHA: 2,
    BETA: 3,
    GA: 4,
    DEPRECATED: 5,
  },
  completionStatus: {
    COMPLETION_STATUS_UNSPECIFIED: 0,
    EXECUTION_SUCCEEDED: 1,
    EXECUTION_FAILED: 2,
    EXECUTION_RUNNING: 3,
    EXECUTION_PENDING: 4,
    EXECUTION_CANCELLED: 5,
  },
  executionEnvironment: {
    EXECUTION_ENVIRONMENT_UNSPECIFIED: 0,
    EXECUTION_ENVIRONMENT_GEN1: 1,
    EXECUTION_ENVIRONMENT_GEN2: 2,
  },
};

/** Cloud Run's defaults, filled in like the real API so `get` after `create` shows them. */
export const DEFAULTS = { taskCount: 1, maxRetries: 3, timeout: "600s" } as const;
export const LIMITS = { maxTimeoutMs: 168 * 3600 * 1000, maxRetries: 10, maxTaskCount: 10_000 } as const;

const ID_PATTERN = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_KEY = /^[a-z][a-z0-9_-]{0,62}$/;
const LABEL_VALUE = /^[a-z0-9_-]{0,63}$/;

/** @example validateJobId("quota-reset-sandbox") // ok; validateJobId("Bad_Name") throws INVALID_ARGUMENT */
export function validateJobId(id: string): void {
  if (!id) throw invalid("jobId is required: pass ?jobId=<name> (lowercase letters, digits and '-')");
  if (id.length > 63 || !ID_PATTERN.test(id))
    throw invalid(
      `Invalid job id ${JSON.stringify(id)}: must be 1-63 characters, start with a lowercase letter, contain only lowercase letters, digits and '-', and not end with '-'`,
    );
}

/** @example validateLabels({ env: "sandbox" }, "labels") */
export function validateLabels(labels: Record<string, string> | undefined, field: string): void {
  for (const [key, value] of Object.entries(labels ?? {})) {
    if (!LABEL_KEY.test(key))
      throw invalid(
        `Invalid label key ${JSON.stringify(key)} in ${field}: lowercase letters, digits, '_' or '-', starting with a letter, at most 63 characters`,
      );
    if (key.startsWith("run.googleapis.com") || key.startsWith("cloud.googleapis.com"))
      throw invalid(`Label key ${JSON.stringify(key)} in ${field} uses a reserved prefix`);
    if (typeof value !== "string" || !LABEL_VALUE.test(value))
      throw invalid(
        `Invalid label value ${JSON.stringify(value)} for ${key} in ${field}: lowercase letters, digits, '_' or '-', at most 63 characters`,
      );
  }
}

function validateEnv(env: EnvVar[] | undefined, field: string): void {
  for (const [i, e] of (env ?? []).entries()) {
    if (!e.name) throw invalid(`${field}[${i}].name is required`);
    if (e.valueSource && e.value !== undefined)
      throw invalid(`${field}[${i}] (${e.name}) sets both value and valueSource; choose one`);
    if (e.valueSource && !e.valueSource.secretKeyRef?.secret)
      throw invalid(`${field}[${i}] (${e.name}) valueSource.secretKeyRef.secret is required`);
  }
}

/** Checks a task timeout: positive and at most 168 h. Returns milliseconds. */
export function validateTimeout(value: unknown, field: string): number {
  const ms = parseDuration(value, field);
  if (ms <= 0 || ms > LIMITS.maxTimeoutMs)
    throw invalid(`${field} must be between 1s and 604800s (168 h); got ${JSON.stringify(value)}`);
  return ms;
}

/** Checks taskCount 1–10,000. */
export function validateTaskCount(value: number, field: string): void {
  if (!Number.isInteger(value) || value < 1 || value > LIMITS.maxTaskCount)
    throw invalid(`${field} must be an integer from 1 to 10000; got ${value}`);
}

/**
 * Validates a job body as Google does for the fields we use and returns its template with defaults filled.
 * @example const template = normaliseTemplate(body.template);
 */
export function normaliseTemplate(input: ExecutionTemplate | undefined): ExecutionTemplate {
  if (!input?.template)
    throw invalid("job.template.template is required (the task template with containers)");
  const template: ExecutionTemplate = structuredClone(input);
  const task = template.template as TaskTemplate;
  const containers = task.containers ?? [];
  if (containers.length === 0) throw invalid("job.template.template.containers must hold one container");
  for (const [i, c] of containers.entries()) {
    if (!c.image)
      throw invalid(`job.template.template.containers[${i}].image is required (a container image URL)`);
    validateEnv(c.env, `job.template.template.containers[${i}].env`);
  }
  template.taskCount = template.taskCount ?? DEFAULTS.taskCount;
  validateTaskCount(template.taskCount, "job.template.taskCount");
  if (
    template.parallelism !== undefined &&
    (!Number.isInteger(template.parallelism) || template.parallelism < 0)
  )
    throw invalid(`job.template.parallelism must be a non-negative integer; got ${template.parallelism}`);
  task.maxRetries = task.maxRetries ?? DEFAULTS.maxRetries;
  if (!Number.isInteger(task.maxRetries) || task.maxRetries < 0 || task.maxRetries > LIMITS.maxRetries)
    throw invalid(`job.template.template.maxRetries must be from 0 to 10; got ${task.maxRetries}`);
  task.timeout = task.timeout ?? DEFAULTS.timeout;
  validateTimeout(task.timeout, "job.template.template.timeout");
  const env = decodeEnum(
    task.executionEnvironment,
    RUN_ENUMS.executionEnvironment as Record<string, number>,
    "job.template.template.executionEnvironment",
  );
  if (env) task.executionEnvironment = env;
  validateLabels(template.labels, "job.template.labels");
  return template;
}
