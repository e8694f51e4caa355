/**
 * The Cloud Logging `POST /v2/entries:list` surface for Cloud Run job logs, so operators' tools read an
 * execution's logs with the same request against Google and against the sandbox. Supports the filters
 * those tools send (an AND of comparisons on resource/labels/jsonPayload fields/severity/timestamp); anything else is a 400,
 * never a silently wider answer.
 */
import { invalid } from "../http/errors.ts";
import { type LogEntry, SEVERITY_ORDER } from "./logs.ts";

const TERM = /^(?<key>[A-Za-z_.]+(?:\."[^"]+")?)\s*(?<op>>=|<=|!=|=|>|<)\s*(?<value>"(?:[^"\\]|\\.)*"|\S+)$/;

type Getter = (e: LogEntry) => string | undefined;
const FIELDS: Record<string, Getter> = {
  "resource.type": (e) => e.resource.type,
  "resource.labels.job_name": (e) => e.resource.labels.job_name,
  "resource.labels.location": (e) => e.resource.labels.location,
  "resource.labels.project_id": (e) => e.resource.labels.project_id,
  logName: (e) => e.logName,
  severity: (e) => e.severity,
  timestamp: (e) => e.timestamp,
};
const LABEL_KEYS = ["execution_name", "job_name", "task_index", "task_attempt"].map(
  (k) => `run.googleapis.com/${k}`,
);

function getter(key: string): Getter | undefined {
  // A top-level field of a structured entry, e.g. jsonPayload.status="skipped" (Cloud Logging compares the
  // field's text; an entry without it does not match).
  const field = /^jsonPayload\.(?<name>[A-Za-z_][A-Za-z0-9_]*)$/.exec(key)?.groups?.name;
  if (field !== undefined)
    return (e) => {
      const value = e.jsonPayload?.[field];
      return typeof value === "string" || typeof value === "number" || typeof value === "boolean"
        ? String(value)
        : undefined;
    };
  const label = /^labels\."(?<name>[^"]+)"$/.exec(key)?.groups?.name;
  if (label !== undefined) return LABEL_KEYS.includes(label) ? (e) => e.labels[label] : undefined;
  return FIELDS[key];
}

function compare(key: string, a: string, b: string): number {
  if (key === "severity") {
    const order: readonly string[] = SEVERITY_ORDER;
    return order.indexOf(a) - order.indexOf(b.toUpperCase());
  }
  if (key === "timestamp") return Date.parse(a) - Date.parse(b);
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Compiles a filter into a predicate; throws INVALID_ARGUMENT for what it does not support.
 * @example compileFilter('resource.type="cloud_run_job" AND labels."run.googleapis.com/execution_name"="x-abcde"')
 */
export function compileFilter(filter: string): (e: LogEntry) => boolean {
  const terms = filter.trim() === "" ? [] : filter.trim().split(/\s+AND\s+/);
  const checks = terms.map((term) => {
    const m = TERM.exec(term.trim());
    const key = m?.groups?.key ?? "";
    const get = getter(key);
    if (!m?.groups || !get)
      throw invalid(
        `Unsupported filter term ${JSON.stringify(term)} in entries:list: the sandbox supports AND of comparisons on resource.type, jsonPayload.<field>, resource.labels.{job_name,location,project_id}, labels."run.googleapis.com/{execution_name,job_name,task_index,task_attempt}", logName, severity, timestamp`,
      );
    const raw = m.groups.value as string;
    const value = raw.startsWith('"') ? (JSON.parse(raw) as string) : raw;
    const op = m.groups.op as string;
    return (e: LogEntry) => {
      const actual = get(e);
      if (actual === undefined) return false;
      const c = compare(key, actual, value);
      return op === "="
        ? c === 0
        : op === "!="
          ? c !== 0
          : op === ">"
            ? c > 0
            : op === "<"
              ? c < 0
              : op === ">="
                ? c >= 0
                : c <= 0;
    };
  });
  return (e) => checks.every((check) => check(e));
}

export interface ListRequest {
  resourceNames?: string[];
  filter?: string;
  orderBy?: string;
  pageSize?: number;
  pageToken?: string;
}

/**
 * Answers an entries:list request over `entries`.
 * @example listEntries(logs.all(), { resourceNames: ["projects/sandbox-project"], filter })
 */
export function listEntries(
  entries: LogEntry[],
  req: ListRequest,
): { entries: LogEntry[]; nextPageToken?: string } {
  const projects = (req.resourceNames ?? []).map((r) => /^projects\/([^/]+)$/.exec(r)?.[1]);
  if (projects.length === 0 || projects.some((p) => !p))
    throw invalid(
      `entries:list needs resourceNames like ["projects/<project-id>"]; got ${JSON.stringify(req.resourceNames)}`,
    );
  const order = (req.orderBy ?? "timestamp asc").trim().toLowerCase();
  if (!/^timestamp( asc| desc)?$/.test(order))
    throw invalid(
      `Unsupported orderBy ${JSON.stringify(req.orderBy)}: use "timestamp asc" or "timestamp desc"`,
    );
  const match = compileFilter(req.filter ?? "");
  const selected = entries
    .filter((e) => projects.includes(e.resource.labels.project_id) && match(e))
    .sort((a, b) => a.timestamp.localeCompare(b.timestamp) || a.insertId.localeCompare(b.insertId));
  if (order.endsWith("desc")) selected.reverse();
  const size = Math.min(Math.max(Number(req.pageSize ?? 50) || 50, 1), 1000);
  const start = req.pageToken ? Number(Buffer.from(req.pageToken, "base64url").toString("utf8")) : 0;
  if (!Number.isInteger(start) || start < 0)
    throw invalid(`Invalid pageToken ${JSON.stringify(req.pageToken)}`);
  const page = selected.slice(start, start + size);
  return start + size < selected.length
    ? { entries: page, nextPageToken: Buffer.from(String(start + size)).toString("base64url") }
    : { entries: page };
}
