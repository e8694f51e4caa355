import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import alerts from "../../jobs/daily/alerts.ts";
import { ALERT_TYPES } from "../../src/runtime/admin-api.ts";
import { parseFlags } from "../../src/runtime/flags.ts";
import { runEntrypoint } from "../../src/runtime/runner.ts";
import { runJob } from "../helpers/context.ts";
import { FAKE_ROOT_KEY, type FakeAdminApi, makeOrgs, startFakeAdminApi } from "../helpers/fake-admin-api.ts";
import { capture } from "../runtime/helpers/jobs.ts";

const ROUTE = "POST /api/v1/admin/alerts/process-all" as const;
let api: FakeAdminApi;
const env = () => ({ API_SERVICE_URL: api.url, CA_ROOT_API_KEY: FAKE_ROOT_KEY });
const run = (argv: string[] = []) => runJob(alerts, { env: env(), argv });
const answer = (body: Record<string, unknown>) => ({
  status: 200,
  body: { success: true, orgs_processed: 4, alerts_triggered: 4, notifications_sent: 4, errors: 0, ...body },
});

beforeAll(async () => {
  api = await startFakeAdminApi();
});
afterAll(() => api.close());
beforeEach(() => api.reset({ orgs: makeOrgs(4) }));

describe("alerts", () => {
  it("processes every alert type for every org and sends notifications", async () => {
    const { outcome } = await run();
    expect(outcome?.status).toBe("succeeded");
    expect(api.calls(ROUTE)[0]?.body).toEqual({
      alert_types: [...ALERT_TYPES],
      send_notifications: true,
      dry_run: false,
    });
    expect(api.state.notificationsSent).toBe(4);
  });

  it("runs at most once per day with no Cloud Run task retry (retries 0, once per day)", () => {
    expect([alerts.retries, alerts.oncePerDay, alerts.routes]).toEqual([0, true, ["processAlerts"]]);
  });

  it("--dry-run evaluates without notifications", async () => {
    const { outcome } = await run(["--dry-run"]);
    expect(api.calls(ROUTE)[0]?.body).toMatchObject({ send_notifications: false, dry_run: true });
    expect(outcome?.message).toContain("(dry run)");
    expect(api.state.notificationsSent).toBe(0);
  });

  it("--org limits the run to one org", async () => {
    const { outcome } = await run(["--org", "org_002", "--types", "budget_percent,cost_threshold"]);
    expect(outcome?.status).toBe("succeeded");
    expect(api.calls(ROUTE)[0]?.body).toEqual({
      alert_types: ["budget_percent", "cost_threshold"],
      send_notifications: true,
      dry_run: false,
      org_slug: "org_002",
    });
  });

  it.each([
    { argv: ["--org", ""], problem: "--org: is empty" },
    { argv: ["--org", "  "], problem: "--org: has leading or trailing spaces" },
    { argv: ["--org", "Acme-Inc"], problem: '--org: "Acme-Inc" is not an org slug' },
    { argv: ["--org", "ab"], problem: '--org: "ab" is not an org slug' },
    { argv: ["--types", ""], problem: "--types: is empty" },
    { argv: ["--types", "budget_percent,nope"], problem: '--types: unknown alert type(s) "nope"' },
  ])("refuses $argv before any request (exit 2)", async ({ argv, problem }) => {
    expect(parseFlags(alerts, argv).problems).toEqual([expect.stringContaining(problem)]);
    const io = capture();
    const code = await runEntrypoint(["alerts", ...argv], {
      catalog: [alerts],
      env: { ENVIRONMENT: "sandbox", ...env() },
      stdout: io.stdout,
      stderr: io.stderr,
    });
    expect(code).toBe(2);
    expect(api.requests).toHaveLength(0);
  });

  it.each([
    { case: "success:false", body: { success: false, message: "broken" } },
    { case: "an errors count above 0", body: { errors: 2 } },
    { case: "org errors", body: { errors: 1, org_errors: [{ org_slug: "org_001", error: "SMTP down" }] } },
  ])("fails on $case, saying how many notifications went out", async ({ body }) => {
    api.script(ROUTE, answer(body));
    const { outcome } = await run();
    expect(outcome?.status).toBe("failed");
    expect(outcome?.message).toContain("4 notifications were sent, so do not simply re-run");
  });

  it("exits 3 (outcome unknown) after a 503, without sending the call again", async () => {
    api.always(ROUTE, { status: 503, body: { detail: "unavailable" } });
    const io = capture();
    const code = await runEntrypoint(["alerts"], {
      catalog: [alerts],
      env: { ENVIRONMENT: "sandbox", ...env() },
      stdout: io.stdout,
      stderr: io.stderr,
    });
    expect(code).toBe(3);
    expect(api.calls(ROUTE)).toHaveLength(1);
    const summary = io.lines().at(-1);
    expect(summary?.message).toContain("outcome unknown: the API may have sent notifications");
    expect(summary?.message).toContain("to check:");
    expect(summary).toMatchObject({ outcome: "unknown", exit_code: 3 });
  });
});
