/**
 * What a `run-job --rerun <label>` run made the API do this time, from the job's own summary line: a fresh
 * Idempotency-Key scope means the API did the work again (or replayed it, when the same label was used
 * earlier the same day), and the counts say what the work was — for alerts, why fewer notifications than
 * triggered alerts went out.
 *
 * @example
 * explainRerun("fix-1", logs.summaries)
 * // ["--rerun fix-1: a fresh Idempotency-Key scope, so the API did the work again (no replay of today's first run).",
 * //  "The API this time: 18 alerts triggered, 0 notifications sent: …"]
 */
import { wrap } from "./io.ts";
import type { RunSummary } from "./logs.ts";

const num = (value: unknown): number | null => (typeof value === "number" ? value : null);

/** The API's counts from a summary, as "name=value" pairs (numbers and booleans only). */
function counts(fields: Record<string, unknown>): string {
  return Object.entries(fields)
    .filter(([key, value]) => key !== "replayed" && (typeof value === "number" || typeof value === "boolean"))
    .map(([key, value]) => `${key.replaceAll("_", " ")} ${String(value)}`)
    .join(", ");
}

function alerts(fields: Record<string, unknown>): string | null {
  const triggered = num(fields.alerts_triggered);
  const sent = num(fields.notifications_sent);
  if (triggered === null || sent === null) return null;
  const head = `The API this time: ${triggered} alert(s) triggered, ${sent} notification(s) sent`;
  if (fields.dry_run === true) return `${head}: a dry run evaluates the rules and sends nothing.`;
  if (sent >= triggered) return `${head}.`;
  return (
    `${head}: "triggered" counts the rules that fire today, "sent" only the notifications the API sent on ` +
    `this call; it held back ${triggered - sent} (a rule already notified today is not notified again), ` +
    "so no customer got a duplicate."
  );
}

/** The explanation, wrapped to 80 columns. */
export function explainRerun(label: string, summaries: readonly RunSummary[]): string[] {
  return paragraphs(label, summaries).flatMap((paragraph) => wrap(paragraph));
}

function paragraphs(label: string, summaries: readonly RunSummary[]): string[] {
  const fields = summaries.find((summary) => summary.fields)?.fields;
  const lines: string[] = [];
  if (fields?.replayed === true) {
    lines.push(
      `--rerun ${label}: the API replayed the answer it gave earlier today to this same label: nothing was ` +
        "done again. To do the work again, use a label not used today (e.g. --rerun fix-2).",
    );
    return lines;
  }
  lines.push(
    `--rerun ${label}: a fresh Idempotency-Key scope, so the API did the work again (no replay of the ` +
      "day's earlier answer).",
  );
  if (!fields) {
    lines.push("The job logged no counts: see its log lines above for what the API did.");
    return lines;
  }
  lines.push(alerts(fields) ?? `The API this time: ${counts(fields) || "no counts reported"}.`);
  return lines;
}
