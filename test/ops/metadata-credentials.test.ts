/**
 * Credentials from the metadata server, the only source inside Cloud Build, Cloud Run, GCE and GKE: the
 * sandbox's metadata emulator stands in for it (GCE_METADATA_HOST), its tokens reach the emulated Google
 * APIs, and the Cloud Build deploy step's own command provisions stage with no key file anywhere.
 */
import { spawn } from "node:child_process";
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { catalog } from "../../jobs/index.ts";
import { type Sandbox, startSandbox } from "../../sandbox/index.ts";
import { startMetadataServer } from "../../sandbox/metadata/server.ts";
import { ENVIRONMENTS } from "../../src/runtime/environments.ts";
import { createAlertChannels, provisioned } from "../helpers/provisioned.ts";
import { cli } from "./support.ts";

const root = join(import.meta.dirname, "..", "..");
let sandbox: Sandbox;
let home: string;

beforeAll(async () => {
  sandbox = await startSandbox({ quiet: true, data: false, scheduler: { autoTick: false } });
  home = await mkdtemp(join(tmpdir(), "ops-metadata-")); // no gcloud file in it
  // Stage's secrets, which the preflight looks for.
  for (const secretId of ["ca-root-api-key-test", "supabase-access-token-test"]) {
    const response = await fetch(
      `${sandbox.env.SECRET_MANAGER_API_URL}/v1/projects/cloudact-testing-1/secrets?secretId=${secretId}`,
      { method: "POST", body: JSON.stringify({ replication: { automatic: {} } }) },
    );
    expect(response.status).toBe(200);
  }
  // Stage's notification channel, which its alert policies notify (made by people, never by the suite).
  await createAlertChannels(sandbox.urls.monitoring, ENVIRONMENTS.stage);
});
afterAll(async () => {
  await sandbox?.stop();
  await rm(home, { recursive: true, force: true });
});

/** stage pointed at the sandbox's Google emulators; credentials from nowhere but the metadata server. */
const stageEnv = () => ({
  HOME: home,
  GCE_METADATA_HOST: sandbox.env.GCE_METADATA_HOST,
  CLOUD_RUN_API_URL: sandbox.env.CLOUD_RUN_API_URL,
  CLOUD_SCHEDULER_API_URL: sandbox.env.CLOUD_SCHEDULER_API_URL,
  SECRET_MANAGER_API_URL: sandbox.env.SECRET_MANAGER_API_URL,
  MONITORING_API_URL: sandbox.env.MONITORING_API_URL,
});
const authorized = (service: string) => sandbox.metadata.authorized.get(service) ?? 0;

describe("credentials from the metadata server", () => {
  it("are found with no key file and sent as bearer tokens to the emulated APIs", async () => {
    const before = authorized("cloudRun");
    const result = await cli(["list-jobs", "stage", "--json"], { env: stageEnv() });
    expect(result.stderr).toMatch(
      /credentials: metadata server 127\.0\.0\.1:\d+ \(service account deployer@sandbox-project\.iam\.gserviceaccount\.com\)/,
    );
    expect(result.code).toBe(0);
    expect(authorized("cloudRun")).toBeGreaterThan(before);
    expect(sandbox.metadata.requests).toContain(
      "/computeMetadata/v1/instance/service-accounts/default/token",
    );
  });
});

describe("a metadata server without an attached service account", () => {
  it("stops the command with exit 2, naming the source and the fix", async () => {
    const bare = await startMetadataServer({ project: "p", serviceAccount: null });
    try {
      const result = await cli(["list-jobs", "stage"], {
        env: { ...stageEnv(), GCE_METADATA_HOST: bare.host },
      });
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(`metadata server ${bare.host}: could not get an access token`);
      expect(result.stderr).toContain("gcloud auth application-default login");
    } finally {
      await bare.close();
    }
  });
});

/** The deploy step's script as Cloud Build runs it: the YAML's block, with its substitutions applied. */
async function deployStep(substitutions: Record<string, string>): Promise<string> {
  const yaml = await readFile(join(root, "cloudbuild-jobs.yaml"), "utf8");
  const lines = yaml.split("\n");
  const defaults = Object.fromEntries(
    [...yaml.matchAll(/^ {2}(_\w+): "?([^"#\n]*?)"?\s*(#.*)?$/gm)].map((m) => [m[1], m[2]]),
  );
  const step = lines.findIndex((line) => /^\s*- id: deploy\s*$/.test(line));
  const start = lines.findIndex((line, i) => i > step && /^\s*- \|\s*$/.test(line));
  expect(step).toBeGreaterThan(0);
  expect(start).toBeGreaterThan(step);
  const indent = (/^\s*/.exec(lines[start + 1] ?? "")?.[0] ?? "").length;
  const block: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (line.trim() !== "" && (/^\s*/.exec(line)?.[0] ?? "").length < indent) break;
    block.push(line.slice(indent));
  }
  const values: Record<string, string> = { ...defaults, ...substitutions };
  // Cloud Build: $$ is a literal $, ${X} and $X are substitutions (an unknown one fails the build).
  return block.join("\n").replace(/\$\$|\$\{(\w+)\}|\$(\w+)/g, (match, braced, bare) => {
    if (match === "$$") return "$";
    const key = braced ?? bare;
    const value = values[key];
    if (value === undefined) throw new Error(`cloudbuild-jobs.yaml deploy step: unknown substitution ${key}`);
    return value;
  });
}

function run(script: string, env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("bash", ["-euo", "pipefail", "-c", script], { cwd: root, env, stdio: "pipe" });
    let out = "";
    child.stdout.on("data", (chunk) => (out += chunk));
    child.stderr.on("data", (chunk) => (out += chunk));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, out }));
  });
}

describe("the Cloud Build deploy step", () => {
  it("updates stage with its exact command, authenticated by the metadata server alone", async () => {
    // Stage's first deployment names its admin API URL by hand (the table has none); the step updates.
    const first = await cli(
      [
        "create-all-jobs",
        "stage",
        "--api-url",
        "https://api-stage.example.com",
        "--image",
        `us-central1-docker.pkg.dev/cloudact-testing-1/scheduler-jobs/jobs@sha256:${"cd".repeat(32)}`,
        "--yes",
      ],
      { env: stageEnv() },
    );
    expect(first.code, first.stderr).toBe(0);
    const workspace = await mkdtemp(join(tmpdir(), "cloudbuild-workspace-"));
    const bin = join(workspace, "bin");
    await mkdir(bin);
    // `npm ci` would reinstall from the registry (no network here; node_modules is already installed):
    // the one replaced part of the step, and it checks it was called as the step calls it.
    await writeFile(
      join(bin, "npm"),
      '#!/usr/bin/env bash\n[ "$*" = "ci --no-audit --no-fund" ] || { echo "unexpected: npm $*" >&2; exit 1; }\n',
    );
    await chmod(join(bin, "npm"), 0o755);
    const commit = "0123456789abcdef0123456789abcdef01234567";
    const image = `us-central1-docker.pkg.dev/cloudact-testing-1/scheduler-jobs/jobs@sha256:${"ab".repeat(32)}`;
    await writeFile(join(workspace, "image-ref"), `${image}\n`);
    const script = (
      await deployStep({
        PROJECT_ID: "cloudact-testing-1",
        COMMIT_SHA: commit,
        SHORT_SHA: commit.slice(0, 7),
        BUILD_ID: "build-1",
        _DEPLOY: "true",
        _ENVIRONMENT: "stage",
      })
    ).replaceAll("/workspace/", `${workspace}/`);
    const before = {
      run: authorized("cloudRun"),
      scheduler: authorized("scheduler"),
      monitoring: authorized("monitoring"),
    };
    try {
      const result = await run(script, {
        ...stageEnv(),
        PATH: `${bin}:${process.env.PATH}`,
        NO_COLOR: "1",
      } as Record<string, string>);
      expect(result.out).toContain("credentials: metadata server");
      expect(result.code, result.out).toBe(0);
    } finally {
      await rm(workspace, { recursive: true, force: true });
    }
    const listed = await fetch(
      `${sandbox.env.CLOUD_RUN_API_URL}/v2/projects/cloudact-testing-1/locations/us-central1/jobs`,
    );
    const { jobs } = (await listed.json()) as {
      jobs: { name: string; template: { template: { containers: { image: string }[] } } }[];
    };
    const quotaReset = jobs.find((job) => job.name.endsWith("/jobs/quota-reset-stage"));
    expect(quotaReset?.template.template.containers[0]?.image).toBe(image);
    expect(authorized("cloudRun")).toBeGreaterThan(before.run);
    expect(authorized("scheduler")).toBeGreaterThan(before.scheduler);
    expect(authorized("monitoring")).toBeGreaterThan(before.monitoring);
    const policies = await fetch(
      `${sandbox.env.MONITORING_API_URL}/v3/projects/cloudact-testing-1/alertPolicies`,
    );
    const { alertPolicies } = (await policies.json()) as {
      alertPolicies: { userLabels: Record<string, string> }[];
    };
    expect(alertPolicies.filter((p) => p.userLabels.environment === "stage")).toHaveLength(
      provisioned(catalog).policies,
    );
  });
});
