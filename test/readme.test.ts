import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { catalog } from "../jobs/index.ts";
import { README_PATH, renderReadme } from "../tools/readme.ts";

describe("README", () => {
  const readme = readFileSync(README_PATH, "utf8");

  it("restates the catalog, IAM roles and config schema exactly as generated (run `npm run readme` when this fails)", () => {
    expect(readme).toBe(renderReadme(readme));
  });

  it("lists every job of the catalog in its job table", () => {
    for (const job of catalog) expect(readme).toContain(`| \`${job.name}\` |`);
  });

  it("starts with the two commands: the demo and the tests", () => {
    const firstBlock = readme.slice(
      readme.indexOf("```sh"),
      readme.indexOf("```", readme.indexOf("```sh") + 5),
    );
    expect(firstBlock).toContain("npm start");
    expect(firstBlock).toContain("npm test");
  });
});
