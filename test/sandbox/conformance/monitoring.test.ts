/**
 * Cloud Monitoring v3 as the real API scopes it, asserted on the emulator through the official
 * `@google-cloud/monitoring` clients over HTTP (REST): any project is served; alert policies and
 * notification channels live under their `projects/{p}` and are neither listed, read nor referenced from
 * another project; `notificationChannels.create` validates a channel's type and its required label; a
 * policy is evaluated on its own project's Cloud Run metrics only, and its incidents name it.
 */
import { AlertPolicyServiceClient, NotificationChannelServiceClient } from "@google-cloud/monitoring";
import { googleAuthLibrary } from "google-gax";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ExecutionView } from "../../../sandbox/monitoring/evaluator.ts";
import { type Monitoring, startMonitoring } from "../../../sandbox/monitoring/server.ts";

const A = "project-alpha";
const B = "project-beta";
const SEED = "Sandbox on-call";
let now = new Date("2026-03-20T10:00:00Z");
const executions: ExecutionView[] = [];
let monitoring: Monitoring;
let policies: AlertPolicyServiceClient;
let channels: NotificationChannelServiceClient;

beforeAll(async () => {
  monitoring = await startMonitoring({
    now: () => now,
    executions: () => executions,
    channels: [{ displayName: SEED, type: "email", labels: { email_address: "oncall@sandbox.invalid" } }],
    autoEvaluate: false,
  });
  const url = new URL(monitoring.service.url);
  const options = {
    apiEndpoint: url.hostname,
    port: Number(url.port),
    protocol: "http" as const,
    fallback: true as const,
    auth: new googleAuthLibrary.GoogleAuth({ authClient: new googleAuthLibrary.PassThroughClient() }),
  };
  policies = new AlertPolicyServiceClient(options);
  channels = new NotificationChannelServiceClient(options);
});
afterAll(async () => {
  await policies?.close();
  await channels?.close();
  await monitoring?.stop();
});

const listChannels = async (project: string) =>
  (await channels.listNotificationChannels({ name: `projects/${project}` }))[0];
const failedRun = (channel: string) => ({
  displayName: "failed run",
  notificationChannels: [channel],
  conditions: [
    {
      displayName: "failed",
      conditionPrometheusQueryLanguage: {
        query:
          'sum by (job_name) (increase(run_googleapis_com:job_completed_execution_count{result="failed"}[5m])) > 0',
      },
    },
  ],
});

describe("notification channels", () => {
  it("every project starts with the seeded channels, under its own name", async () => {
    for (const project of [A, B]) {
      const listed = await listChannels(project);
      expect(listed.map((c) => [c.displayName, c.name?.startsWith(`projects/${project}/`)])).toEqual([
        [SEED, true],
      ]);
    }
  });

  it("creates a channel in one project only, readable there and not from another", async () => {
    const [made] = await channels.createNotificationChannel({
      name: `projects/${A}`,
      notificationChannel: {
        type: "email",
        displayName: "team A",
        labels: { email_address: "a@example.com" },
      },
    });
    expect(made.name).toMatch(new RegExp(`^projects/${A}/notificationChannels/\\d+$`));
    expect((await listChannels(A)).map((c) => c.displayName)).toContain("team A");
    expect((await listChannels(B)).map((c) => c.displayName)).not.toContain("team A");
    const [read] = await channels.getNotificationChannel({ name: made.name ?? "" });
    expect(read.labels).toEqual({ email_address: "a@example.com" });
    const id = made.name?.split("/").at(-1);
    await expect(
      channels.getNotificationChannel({ name: `projects/${B}/notificationChannels/${id}` }),
    ).rejects.toMatchObject({ code: 5 });
  });

  it("refuses a channel without a type, or without its type's required label", async () => {
    await expect(
      channels.createNotificationChannel({
        name: `projects/${A}`,
        notificationChannel: { displayName: "x" },
      }),
    ).rejects.toMatchObject({ code: 3, message: expect.stringContaining("type is required") });
    await expect(
      channels.createNotificationChannel({
        name: `projects/${A}`,
        notificationChannel: { type: "email", displayName: "x", labels: {} },
      }),
    ).rejects.toMatchObject({ code: 3, message: expect.stringContaining("email_address") });
  });
});

describe("alert policies", () => {
  it("are listed and read in their own project only", async () => {
    const [seedA] = await listChannels(A);
    const [seedB] = await listChannels(B);
    const [inA] = await policies.createAlertPolicy({
      name: `projects/${A}`,
      alertPolicy: failedRun(seedA?.name ?? ""),
    });
    const [inB] = await policies.createAlertPolicy({
      name: `projects/${B}`,
      alertPolicy: failedRun(seedB?.name ?? ""),
    });
    expect(inA.name).toMatch(new RegExp(`^projects/${A}/alertPolicies/`));
    const [listedA] = await policies.listAlertPolicies({ name: `projects/${A}` });
    expect(listedA.map((p) => p.name)).toEqual([inA.name]);
    const [listedB] = await policies.listAlertPolicies({ name: `projects/${B}` });
    expect(listedB.map((p) => p.name)).toEqual([inB.name]);
    const id = inA.name?.split("/").at(-1);
    await expect(
      policies.getAlertPolicy({ name: `projects/${B}/alertPolicies/${id}` }),
    ).rejects.toMatchObject({
      code: 5,
    });
  });

  it("may not notify another project's channel", async () => {
    const [seedA] = await listChannels(A);
    await expect(
      policies.createAlertPolicy({ name: `projects/${B}`, alertPolicy: failedRun(seedA?.name ?? "") }),
    ).rejects.toMatchObject({ code: 5, message: expect.stringContaining(seedA?.name ?? "?") });
  });

  it("see their own project's executions only: a failure in A opens A's incident, not B's", async () => {
    now = new Date(now.getTime() + 60_000);
    executions.push({
      project: A,
      location: "us-central1",
      job: "alerts-stage",
      name: `projects/${A}/locations/us-central1/jobs/alerts-stage/executions/e1`,
      completed: true,
      succeeded: false,
    });
    const opened = monitoring.evaluator.evaluate();
    now = new Date(now.getTime() + 60_000);
    opened.push(...monitoring.evaluator.evaluate());
    expect(opened.map((i) => [i.policy.split("/").slice(0, 2).join("/"), i.labels.job_name])).toEqual([
      [`projects/${A}`, "alerts-stage"],
    ]);
    const [listedA] = await policies.listAlertPolicies({ name: `projects/${A}` });
    expect(opened[0]?.policy).toBe(listedA[0]?.name);
    const only = async (project: string) =>
      (
        (await (await fetch(`${monitoring.service.url}/sandbox/incidents?project=${project}`)).json()) as {
          incidents: unknown[];
        }
      ).incidents.length;
    expect([await only(A), await only(B)]).toEqual([1, 0]);
  });
});
