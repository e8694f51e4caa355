/**
 * Execution logs, kept the way Cloud Logging keeps Cloud Run job logs: one entry per stdout/stderr line
 * (a JSON line with `severity`/`message` becomes a structured `jsonPayload`), labelled with the execution,
 * task index and attempt. Served by `entries:list` (see logging.ts) and by each execution's `logUri` page.
 */
import { Collection } from "../http/store.ts";

export interface LogEntry {
  logName: string;
  insertId: string;
  timestamp: string;
  receiveTimestamp: string;
  severity: string;
  jsonPayload?: Record<string, unknown>;
  textPayload?: string;
  labels: Record<string, string>;
  resource: { type: "cloud_run_job"; labels: { job_name: string; location: string; project_id: string } };
}

/** Where a line came from: the task's stdout/stderr, or the platform (task started, exit code, timeout). */
export type LogStream = "stdout" | "stderr" | "system";

/** Cloud Logging's severities, lowest first. */
export const SEVERITY_ORDER = [
  "DEFAULT",
  "DEBUG",
  "INFO",
  "NOTICE",
  "WARNING",
  "ERROR",
  "CRITICAL",
  "ALERT",
  "EMERGENCY",
] as const;
const SEVERITIES = new Set<string>(SEVERITY_ORDER);
/** Fields Cloud Logging lifts out of a JSON line instead of keeping them in jsonPayload. */
const LIFTED = [
  "severity",
  "time",
  "timestamp",
  "logging.googleapis.com/labels",
  "logging.googleapis.com/insertId",
];

export interface TaskRef {
  project: string;
  location: string;
  job: string;
  execution: string;
  taskIndex: number;
  attempt: number;
}

/**
 * Turns one output line into an entry.
 * @example toEntry(ref, "stdout", '{"severity":"INFO","message":"done"}', new Date(), 1)
 */
export function toEntry(ref: TaskRef, stream: LogStream, line: string, at: Date, seq: number): LogEntry {
  let severity = stream === "stderr" ? "ERROR" : "DEFAULT";
  let jsonPayload: Record<string, unknown> | undefined;
  let textPayload: string | undefined;
  let timestamp = at.toISOString();
  try {
    const parsed: unknown = line.trim().startsWith("{") ? JSON.parse(line) : undefined;
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed))
      jsonPayload = parsed as Record<string, unknown>;
  } catch {
    // Not JSON: kept as text, exactly as Cloud Logging does.
  }
  if (jsonPayload) {
    const level = String(jsonPayload.severity ?? "").toUpperCase();
    if (SEVERITIES.has(level)) severity = level;
    const time = jsonPayload.time ?? jsonPayload.timestamp;
    if (typeof time === "string" && !Number.isNaN(Date.parse(time))) timestamp = new Date(time).toISOString();
    jsonPayload = Object.fromEntries(Object.entries(jsonPayload).filter(([k]) => !LIFTED.includes(k)));
  } else {
    textPayload = line;
    if (stream === "system")
      severity = /fail|error|timed out|killed|not found/i.test(line) ? "ERROR" : "INFO";
  }
  const logId =
    stream === "system" ? "run.googleapis.com%2Fvarlog%2Fsystem" : `run.googleapis.com%2F${stream}`;
  return {
    logName: `projects/${ref.project}/logs/${logId}`,
    insertId: `${ref.execution}-${String(seq).padStart(8, "0")}`,
    timestamp,
    receiveTimestamp: at.toISOString(),
    severity,
    ...(jsonPayload ? { jsonPayload } : { textPayload }),
    labels: {
      "run.googleapis.com/execution_name": ref.execution,
      "run.googleapis.com/job_name": ref.job,
      "run.googleapis.com/task_index": String(ref.taskIndex),
      "run.googleapis.com/task_attempt": String(ref.attempt),
    },
    resource: {
      type: "cloud_run_job",
      labels: { job_name: ref.job, location: ref.location, project_id: ref.project },
    },
  };
}

/**
 * Every execution's entries, in arrival order. Held in memory while tasks write; persisted (with a data
 * folder) when the execution completes, not per line.
 * @example logs.append(ref, "stdout", line); logs.all()
 */
export class LogStore {
  readonly #byExecution: Collection<LogEntry[]>;
  #seq = 0;

  constructor(dataDir?: string) {
    this.#byExecution = new Collection<LogEntry[]>("run-logs", dataDir);
  }

  append(ref: TaskRef, stream: LogStream, line: string, at = new Date()): LogEntry {
    const key = ref.execution;
    let entries = this.#byExecution.get(key);
    if (!entries) {
      entries = [];
      this.#byExecution.set(key, entries);
    }
    const entry = toEntry(ref, stream, line, at, ++this.#seq);
    entries.push(entry);
    return entry;
  }

  forExecution(executionId: string): LogEntry[] {
    return this.#byExecution.get(executionId) ?? [];
  }

  all(): LogEntry[] {
    return this.#byExecution.values().flat();
  }

  remove(executionId: string): void {
    this.#byExecution.delete(executionId);
  }

  flush(): void {
    this.#byExecution.save();
  }
}
