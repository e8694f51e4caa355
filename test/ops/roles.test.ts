import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { IAM_ROLES } from "../../src/ops/iam.ts";
import { roleNames } from "../../src/ops/preflight.ts";
import { cli } from "./support.ts";

const exec = promisify(execFile);

describe("preflight's role summary", () => {
  it("names every role of a line, not only the first (quota-cleanup needs bigquery.dataEditor too)", () => {
    expect(roleNames(IAM_ROLES.job).split(", ")).toEqual([
      "roles/secretmanager.secretAccessor",
      "roles/bigquery.jobUser",
      "roles/bigquery.dataEditor",
      "roles/run.viewer",
    ]);
  });
});

describe("create-all-jobs --print-iam", () => {
  const image = `us-central1-docker.pkg.dev/cloudact-testing-1/scheduler-jobs/jobs@sha256:${"1".repeat(64)}`;

  it.each(["test", "stage", "prod"])(
    "prints a gcloud command for every role the README lists (%s), calling nothing",
    async (envName) => {
      const result = await cli(["create-all-jobs", envName, "--print-iam"], { env: {} });
      expect(result.code).toBe(0);
      const commands = result.stdout.split("\n").filter((line) => /^(gcloud|bq) /.test(line));
      const granted = new Set(commands.map((line) => /--role=(roles\/[\w.]+)/.exec(line)?.[1]));
      for (const role of roleNames(Object.values(IAM_ROLES).flat()).split(", "))
        expect(granted).toContain(role);
      // bash parses it.
      await exec("bash", ["-n", "-c", result.stdout]);
    },
  );

  it("grants bigquery.jobUser on the project and dataEditor on the dataset, never jobUser on a dataset", async () => {
    const { stdout } = await cli(["create-all-jobs", "prod", "--print-iam"], { env: {} });
    expect(stdout).toMatch(
      /^gcloud projects add-iam-policy-binding cloudact-prod .*--role=roles\/bigquery\.jobUser/m,
    );
    expect(stdout).toMatch(
      /^bq add-iam-policy-binding .*--role=roles\/bigquery\.dataEditor cloudact-prod:organizations$/m,
    );
    expect(stdout).not.toMatch(/^bq .*bigquery\.jobUser/m);
  });

  it("lets prod's Cloud Run service agent read an image in another project's Artifact Registry", async () => {
    const { stdout } = await cli(["create-all-jobs", "prod", "--print-iam", "--image", image], { env: {} });
    expect(stdout).toMatch(
      /^gcloud artifacts repositories add-iam-policy-binding scheduler-jobs --project=cloudact-testing-1 --location=us-central1 --member="serviceAccount:service-\$\(gcloud projects describe cloudact-prod --format='value\(projectNumber\)'\)@serverless-robot-prod\.iam\.gserviceaccount\.com" --role=roles\/artifactregistry\.reader$/m,
    );
  });
});
