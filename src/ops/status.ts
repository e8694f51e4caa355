/**
 * The health verdict of one job for `list-jobs`, as a pure function of what was read. The most urgent thing
 * an on-call engineer must act on wins:
 *
 * - RUNNING: the latest execution has not finished;
 * - FAILED: the latest execution failed or was cancelled;
 * - MISSED: an enabled trigger had a slot (older than the grace period, newer than the job) and no execution
 *   started since;
 * - DRIFTED: the deployed job or trigger differs from the catalog, or is missing (the plan's diff);
 * - NEVER RAN: no execution at all and nothing missed (manual jobs, new jobs);
 * - OK: otherwise.
 *
 * Drift is also shown on its own (`verdictLabel`, the `drift` field), so a FAILED job that also drifted
 * says both: neither hides the other.
 *
 * @example
 * verdict({ drifted: true, triggerEnabled: true, latest: { status: "failed", start }, slot, createdAt }) // "FAILED"
 * verdictLabel("FAILED", ["job timeout"]) // "FAILED (drifted)"
 */
import type { ExecutionStatus } from "./execution.ts";

export const VERDICTS = ["OK", "FAILED", "RUNNING", "MISSED", "NEVER RAN", "DRIFTED"] as const;
export type Verdict = (typeof VERDICTS)[number];

/** Scheduler fires within seconds and the execution starts a few seconds later; 10 minutes is plenty. */
export const MISSED_GRACE_MS = 10 * 60_000;

export interface VerdictInput {
  drifted: boolean;
  /** The job has a trigger that is enabled. */
  triggerEnabled: boolean;
  latest: { status: ExecutionStatus; start: Date | null } | null;
  /** The latest slot at or before now − grace; null for manual jobs. */
  slot: Date | null;
  /** When the Cloud Run job was created (slots before it are not missed). */
  createdAt: Date | null;
}

export function verdict(input: VerdictInput): Verdict {
  if (input.latest?.status === "running") return "RUNNING";
  if (input.latest && ["failed", "cancelled"].includes(input.latest.status)) return "FAILED";
  const slot = input.slot;
  const slotCounts = slot && input.triggerEnabled && (!input.createdAt || slot > input.createdAt);
  if (slotCounts && (!input.latest?.start || input.latest.start < slot)) return "MISSED";
  if (input.drifted) return "DRIFTED";
  return input.latest ? "OK" : "NEVER RAN";
}

/** The verdict with drift marked when the verdict itself is not DRIFTED: "FAILED (drifted)". */
export const verdictLabel = (value: Verdict, drift: readonly string[]): string =>
  drift.length > 0 && value !== "DRIFTED" ? `${value} (drifted)` : value;

/** google.rpc.Code → the HTTP status Google maps it from (what an operator recognises). */
const HTTP_OF_CODE: Record<number, number> = {
  1: 499,
  2: 500,
  3: 400,
  4: 504,
  5: 404,
  6: 409,
  7: 403,
  8: 429,
  9: 400,
  10: 409,
  11: 400,
  12: 501,
  13: 500,
  14: 503,
  15: 500,
  16: 401,
};
const CODE_NAMES = [
  "OK",
  "CANCELLED",
  "UNKNOWN",
  "INVALID_ARGUMENT",
  "DEADLINE_EXCEEDED",
  "NOT_FOUND",
  "ALREADY_EXISTS",
  "PERMISSION_DENIED",
  "RESOURCE_EXHAUSTED",
  "FAILED_PRECONDITION",
  "ABORTED",
  "OUT_OF_RANGE",
  "UNIMPLEMENTED",
  "INTERNAL",
  "UNAVAILABLE",
  "DATA_LOSS",
  "UNAUTHENTICATED",
];

export interface LastAttempt {
  /** The Scheduler job's `status` (google.rpc.Status of its last attempt; empty when it succeeded). */
  status: { code?: number | null; message?: string | null } | null | undefined;
  /** Its `lastAttemptTime`. */
  time: Date | null;
  /** The target it calls (`…/jobs/x:run`), to name the method. */
  uri: string | null | undefined;
}

const isoSeconds = (date: Date): string => date.toISOString().replace(/\.\d{3}Z$/, "Z");

/**
 * Why a slot was missed, from the trigger's last attempt (CONTRACT §4).
 *
 * @example
 * missedReason({ status: { code: 7 }, time: new Date("2026-11-23T00:00:01Z"), uri: "https://run.googleapis.com/v2/…/jobs/x:run" }, slot)
 * // "last attempt 2026-11-23T00:00:01Z failed: 403 PERMISSION_DENIED from :run"
 */
export function missedReason(last: LastAttempt, slot: Date | null): string {
  const code = Number(last.status?.code ?? 0);
  const method = /:[a-zA-Z]+$/.exec(last.uri ?? "")?.[0] ?? last.uri ?? "its target";
  const when = last.time ? isoSeconds(last.time) : null;
  if (!when || (slot && last.time && last.time < slot))
    return `no Scheduler attempt since the slot at ${slot ? isoSeconds(slot) : "?"} (last attempt: ${when ?? "never"})`;
  if (code === 0) return `last attempt ${when} was accepted by ${method}, yet no execution started after it`;
  const http = HTTP_OF_CODE[code] ?? 500;
  const detail = last.status?.message ? `: ${last.status.message.split("\n")[0]?.slice(0, 160)}` : "";
  return `last attempt ${when} failed: ${http} ${CODE_NAMES[code] ?? code} from ${method}${detail}`;
}
