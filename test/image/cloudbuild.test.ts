/**
 * cloudbuild-jobs.yaml's steps run as Cloud Build would run them: substitutions filled in ($$ → $), the push
 * step's script with a `docker` that answers like docker push (no engine here), then the deploy step's exact
 * script against the sandbox, from a workspace with no git metadata (as `gcloud builds submit` uploads it).
 *
 * Credentials: the deploy step reaches the sandbox through the CLOUD_RUN_API_URL… override and its
 * pass-through auth; on Cloud Build it uses Application Default Credentials from the metadata server.
 * It provisions the alert policies too, as in production: stage's notification channel is created first
 * in the Monitoring emulator, as people create it in Google's.
 */
import { execFile } from "node:child_process";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { AlertPolicyServiceClient } from "@google-cloud/monitoring";
import { JobsClient } from "@google-cloud/run";
import { SecretManagerServiceClient } from "@google-cloud/secret-manager";
import { googleAuthLibrary } from "google-gax";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { catalog } from "../../jobs/index.ts";
import { type Sandbox, startSandbox } from "../../sandbox/index.ts";
import { ENVIRONMENTS } from "../../src/runtime/environments.ts";
import { createAlertChannels, provisioned } from "../helpers/provisioned.ts";

const exec = promisify(execFile);
const root = resolve(import.meta.dirname, "../..");
const config = parse(await readFile(join(root, "cloudbuild-jobs.yaml"), "utf8")) as {
  substitutions: Record<string, string>;
  steps: { id: string; name: string; entrypoint?: string; args: string[] }[];
};
const COMMIT = "0123456789abcdef0123456789abcdef01234567";
const DIGEST = `sha256:${"ab12".repeat(16)}`;

/** Cloud Build's substitution: $VAR and ${VAR} for known keys, then $$ → $; /workspace is `workspace`. */
function fill(text: string, values: Record<string, string>, workspace: string): string {
  let out = text.replaceAll("$$", "\u0000");
  for (const [key, value] of Object.entries(values)) {
    out = out.replaceAll(`\${${key}}`, value).replace(new RegExp(`\\$${key}(?![A-Za-z0-9_])`, "g"), value);
  }
  return out.replaceAll("\u0000", "$").replaceAll("/workspace/", `${workspace}/`);
}

function stepScript(id: string, values: Record<string, string>, workspace: string): string[] {
  const step = config.steps.find((candidate) => candidate.id === id);
  if (!step) throw new Error(`no step ${id}`);
  return step.args.map((arg) => fill(arg, values, workspace));
}

function client(url: string) {
  const { hostname, port } = new URL(url);
  return {
    apiEndpoint: hostname,
    port: Number(port),
    protocol: "http" as const,
    fallback: true,
    auth: new googleAuthLibrary.GoogleAuth({ authClient: new googleAuthLibrary.PassThroughClient() }),
  };
}

describe("cloudbuild-jobs.yaml's commands", () => {
  let sandbox: Sandbox;
  let workspace: string;
  let bin: string;
  const values = () => ({
    ...config.substitutions,
    PROJECT_ID: "cloudact-testing-1",
    COMMIT_SHA: COMMIT,
    SHORT_SHA: COMMIT.slice(0, 7),
    _ENVIRONMENT: "stage",
    _DEPLOY: "true",
    _API_URL: "https://api.stage.example.com",
  });

  beforeAll(async () => {
    sandbox = await startSandbox({ quiet: true, data: false, scheduler: { autoTick: false } });
    workspace = await mkdtemp(join(tmpdir(), "cloudbuild-workspace-"));
    bin = await mkdtemp(join(tmpdir(), "cloudbuild-bin-"));
    // docker push's own output (the engine cannot run here); npm ci is a no-op (node_modules is installed).
    await writeFile(
      join(bin, "docker"),
      `#!/usr/bin/env bash\necho "The push refers to repository [\${2%:*}]"\necho "5f70bf18a086: Pushed"\necho "\${2##*:}: digest: ${DIGEST} size: 1573"\n`,
    );
    await writeFile(join(bin, "npm"), '#!/usr/bin/env bash\n[ "$1" = ci ] && exit 0\nexit 1\n');
    await Promise.all([chmod(join(bin, "docker"), 0o755), chmod(join(bin, "npm"), 0o755)]);
    const secrets = new SecretManagerServiceClient(client(sandbox.urls.secretManager));
    for (const secretId of ["ca-root-api-key-test", "supabase-access-token-test"])
      await secrets.createSecret({
        parent: "projects/cloudact-testing-1",
        secretId,
        secret: { replication: { automatic: {} } },
      });
    await secrets.close();
    await createAlertChannels(sandbox.urls.monitoring, ENVIRONMENTS.stage);
  });
  afterAll(async () => {
    await sandbox?.stop();
    await Promise.all([workspace, bin].map((dir) => dir && rm(dir, { recursive: true, force: true })));
  });

  const env = () => ({
    PATH: `${bin}:${process.env.PATH}`,
    HOME: workspace,
    // No git metadata, as in a `gcloud builds submit` workspace: the commit must come from the substitution.
    GIT_DIR: join(workspace, "no-git"),
    ...sandbox.env,
  });

  it("builds with the commit as GIT_COMMIT and refuses to build without COMMIT_SHA", async () => {
    expect(stepScript("build", values(), workspace)).toContain(`--build-arg=GIT_COMMIT=${COMMIT}`);
    const check = stepScript("check", { ...values(), COMMIT_SHA: "" }, workspace);
    await expect(exec("bash", check)).rejects.toMatchObject({
      stdout: expect.stringContaining("COMMIT_SHA is empty"),
    });
  });

  it("pushes, then deploys that digest to stage with the real commit label", async () => {
    const push = stepScript("push", values(), workspace);
    const pushed = await exec("bash", push, { env: env() });
    const image = `us-central1-docker.pkg.dev/cloudact-testing-1/scheduler-jobs/jobs@${DIGEST}`;
    expect(pushed.stdout).toContain(`pushed: ${image}`);
    expect((await readFile(join(workspace, "image-ref"), "utf8")).trim()).toBe(image);

    const deploy = stepScript("deploy", values(), workspace);
    const deployed = await exec("bash", deploy, { env: env(), cwd: root });
    expect(deployed.stdout).toContain(`Applied: ${provisioned(catalog).all} done, 0 failed.`);

    const jobs = new JobsClient(client(sandbox.urls.cloudRun));
    const [list] = await jobs.listJobs({ parent: "projects/cloudact-testing-1/locations/us-central1" });
    await jobs.close();
    expect(list).toHaveLength(catalog.length);
    for (const job of list) {
      expect(job.labels?.["source-commit"]).toBe(COMMIT);
      expect(job.template?.template?.containers?.[0]?.image).toBe(image);
    }
    const monitoring = new AlertPolicyServiceClient(client(sandbox.urls.monitoring));
    const [policies] = await monitoring.listAlertPolicies({ name: "projects/cloudact-testing-1" });
    await monitoring.close();
    expect(policies.filter((p) => p.userLabels?.environment === "stage")).toHaveLength(
      provisioned(catalog).policies,
    );
  }, 60_000);

  it("refuses to auto-deploy prod", async () => {
    const deploy = stepScript("deploy", { ...values(), _ENVIRONMENT: "prod" }, workspace);
    await expect(exec("bash", deploy, { env: env(), cwd: root })).rejects.toMatchObject({
      stdout: expect.stringContaining("refusing to auto-deploy prod"),
    });
  });
});
