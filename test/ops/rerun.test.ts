import { describe, expect, it } from "vitest";
import { explainRerun } from "../../src/ops/rerun.ts";

const alerts = (fields: Record<string, unknown>) => [
  { status: "succeeded", message: "Alerts: …", fields: { dry_run: false, org: null, errors: 0, ...fields } },
];

describe("what a --rerun made the API do", () => {
  it("explains 18 triggered, 0 sent: the API held back what it had already sent today", () => {
    const text = explainRerun("fix-1", alerts({ alerts_triggered: 18, notifications_sent: 0 })).join(" ");
    expect(text).toContain("--rerun fix-1: a fresh Idempotency-Key scope, so the API did the work again");
    expect(text).toContain("18 alert(s) triggered, 0 notification(s) sent");
    expect(text).toContain("held back 18");
  });

  it.each([
    [{ alerts_triggered: 4, notifications_sent: 4 }, "4 alert(s) triggered, 4 notification(s) sent."],
    [
      { alerts_triggered: 4, notifications_sent: 0, dry_run: true },
      "a dry run evaluates the rules and sends nothing",
    ],
  ])("alerts %j", (fields, expected) => {
    expect(explainRerun("x", alerts(fields)).join(" ")).toContain(expected);
  });

  it("says when the API replayed an answer for a label already used today", () => {
    const text = explainRerun(
      "fix-1",
      alerts({ replayed: true, alerts_triggered: 18, notifications_sent: 0 }),
    ).join(" ");
    expect(text).toContain("replayed the answer it gave earlier today to this same label");
    expect(text).toContain("--rerun fix-2");
  });

  it("lists another job's counts", () => {
    const summaries = [{ status: "succeeded", message: "", fields: { orgs_processed: 5, orgs_skipped: 5 } }];
    expect(explainRerun("x", summaries).join(" ")).toContain(
      "The API this time: orgs processed 5, orgs skipped 5.",
    );
  });

  it("fits 80 columns", () => {
    for (const line of explainRerun("fix-1", alerts({ alerts_triggered: 18, notifications_sent: 0 })))
      expect(line.length).toBeLessThanOrEqual(80);
  });
});
