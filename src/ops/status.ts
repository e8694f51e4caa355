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
