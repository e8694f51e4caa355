import { describe, expect, it } from "vitest";
import { explainRerun } from "../../src/ops/rerun.ts";

const alerts = (fields: Record<string, unknown>) => [
  { status: "succeeded", message: "Alerts: …", fields: { dry_run: false, org: null, errors: 0, ...fields } },
];

describe("what a --rerun made the API do", () => {
  it("says the API did the work again and notified every customer again, since it replays nothing", () => {
    const text = explainRerun("fix-1", alerts({ alerts_triggered: 18, notifications_sent: 18 })).join(" ");
    expect(text).toContain("--rerun fix-1: a deliberate re-run, so the job skipped its once-per-day check");
    expect(text).toContain("18 alert(s) triggered, 18 notification(s) sent");
    expect(text).toContain("the API does not de-duplicate");
    expect(text).not.toContain("no customer got a duplicate");
  });

  it.each([
    [{ alerts_triggered: 4, notifications_sent: 1 }, "3 triggered rule(s) sent nothing"],
    [
      { alerts_triggered: 4, notifications_sent: 0, dry_run: true },
      "a dry run evaluates the rules and sends nothing",
    ],
  ])("alerts %j", (fields, expected) => {
    expect(explainRerun("x", alerts(fields)).join(" ")).toContain(expected);
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
