import { describe, expect, it } from "vitest";
import { IAM_ROLES } from "../../src/ops/iam.ts";
import { roleNames } from "../../src/ops/preflight.ts";

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
