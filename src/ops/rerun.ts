/**
 * What a `run-job --rerun <label>` run made the API do this time, from the job's own summary line: a
 * deliberate re-run skips the job's once-per-day check, the API (which replays nothing) does the work
 * again, and the counts say what the work was — for alerts, that customers were notified again.
 *
 * @example
 * explainRerun("fix-1", logs.summaries)
 * // ["--rerun fix-1: a deliberate re-run, so the job skipped its once-per-day check and called the API again …",
 * //  "The API this time: 18 alert(s) triggered, 18 notification(s) sent: …"]
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
  // The API keeps no record of what it sent earlier (CONTRACT §1): every triggered rule is notified again.
  const again =
    "the API does not de-duplicate, so every customer whose rule fired was notified again, even if an " +
    "earlier run today already notified them";
  if (sent >= triggered) return `${head}: ${again}.`;
  return (
    `${head}: ${again}; ${triggered - sent} triggered rule(s) sent nothing (no notification channel, ` +
    "notifications switched off, or an error counted in errors/org_errors)."
  );
}

/** The explanation, wrapped to 80 columns. */
export function explainRerun(label: string, summaries: readonly RunSummary[]): string[] {
  return paragraphs(label, summaries).flatMap((paragraph) => wrap(paragraph));
}

function paragraphs(label: string, summaries: readonly RunSummary[]): string[] {
  const fields = summaries.find((summary) => summary.fields)?.fields;
  const lines = [
    `--rerun ${label}: a deliberate re-run, so the job skipped its once-per-day check and called the API ` +
      "again (the API keeps no Idempotency-Keys and replays nothing: the work was done again).",
  ];
  if (!fields) {
    lines.push("The job logged no counts: see its log lines above for what the API did.");
    return lines;
  }
  lines.push(alerts(fields) ?? `The API this time: ${counts(fields) || "no counts reported"}.`);
  return lines;
}
