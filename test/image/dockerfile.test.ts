import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { dockerIgnored, ENTRYPOINT } from "../../tools/image-layout.ts";

// hadolint ships as a binary download, which this workplace cannot fetch; these are the rules we rely on,
// checked on the parsed instructions of the real Dockerfile.
const root = resolve(import.meta.dirname, "../..");
const dockerfile = readFileSync(resolve(root, "Dockerfile"), "utf8");
const dockerignore = readFileSync(resolve(root, ".dockerignore"), "utf8");

interface Instruction {
  keyword: string;
  args: string;
}

/** Joins continuation lines and drops comments: one entry per instruction. */
function parse(text: string): Instruction[] {
  const joined = text
    .split("\n")
    .filter((line) => !line.trimStart().startsWith("#"))
    .join("\n")
    .replace(/\\\n/g, " ");
  return joined
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => {
      const [keyword = "", ...rest] = line.split(/\s+/);
      return { keyword: keyword.toUpperCase(), args: rest.join(" ") };
    });
}

const instructions = parse(dockerfile);
const args = Object.fromEntries(
  instructions
    .filter((i) => i.keyword === "ARG" && i.args.includes("="))
    .map((i) => i.args.split("=") as [string, string]),
);
const expand = (value: string) => value.replace(/\$\{(\w+)\}/g, (_, name: string) => args[name] ?? "");
const stages = instructions.filter((i) => i.keyword === "FROM");
const runtimeStart = instructions.indexOf(stages.at(-1) as Instruction);
const runtime = instructions.slice(runtimeStart);

describe("Dockerfile", () => {
  it("is multi-stage and every base image is pinned to a Node 24 version, never latest", () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of stages) {
      const image = expand(stage.args.split(/\s+/)[0] ?? "");
      expect(image).toMatch(/^node:24\.\d+\.\d+-[a-z]+(-slim)?$/);
      expect(image).not.toMatch(/:latest$|^[^:]+$/);
    }
  });

  it("runs the final stage as a non-root user", () => {
    const users = runtime.filter((i) => i.keyword === "USER").map((i) => i.args);
    expect(users.length).toBeGreaterThan(0);
    expect(users.at(-1)).not.toMatch(/^(root|0)(:|$)/);
  });

  it("copies no sources, tests, sandbox, .env files or secrets into the runtime stage", () => {
    const copies = runtime.filter((i) => i.keyword === "COPY" || i.keyword === "ADD").map((i) => i.args);
    expect(runtime.some((i) => i.keyword === "ADD")).toBe(false);
    for (const copy of copies) {
      expect(copy).not.toMatch(/\.env|secret|credentials|\.json\s+\.\/?$|sandbox|test\/|\/src\s|^src/i);
    }
    const fromBuild = copies.filter((c) => c.includes("--from=build")).map((c) => c.split(/\s+/).at(-2));
    expect(fromBuild.sort()).toEqual(["/app/dist", "/app/node_modules", "/app/package.json"]);
  });

  it("installs only production dependencies for the runtime and has no compiler in it", () => {
    const runs = instructions
      .filter((i) => i.keyword === "RUN")
      .map((i) => i.args)
      .join("\n");
    expect(runs).toMatch(/npm ci --omit=dev/);
    expect(runtime.some((i) => i.keyword === "RUN" && /apt-get|gcc|make|build-essential/.test(i.args))).toBe(
      false,
    );
  });

  it("takes the release version and commit as build arguments and uses the job runner as entrypoint", () => {
    expect(runtime.some((i) => i.keyword === "ARG" && i.args.startsWith("RELEASE_VERSION"))).toBe(true);
    expect(runtime.some((i) => i.keyword === "ARG" && i.args.startsWith("GIT_COMMIT"))).toBe(true);
    const entrypoint = runtime.find((i) => i.keyword === "ENTRYPOINT");
    // Exec form (signals reach node), with the heap flags the benchmarks and layout runs use.
    expect(JSON.parse(entrypoint?.args ?? "null")).toEqual([...ENTRYPOINT]);
  });

  it("keeps .env files and everything unnamed out of the build context", () => {
    const lines = dockerignore.split("\n").map((l) => l.trim());
    expect(lines).toContain("*");
    expect(lines).toContain("**/.env*");
    expect(lines.filter((l) => l.startsWith("!"))).not.toContain("!sandbox/");
  });

  it.each([
    ["migrations/.env.local", true],
    ["migrations/service-account-key.json", true],
    ["migrations/notes.txt", true],
    ["src/.env", true],
    ["src/runtime/key.pem", true],
    ["src/runtime/config.test.ts", true],
    ["sandbox/index.ts", true],
    [".env", true],
    ["src/runtime/config.ts", false],
    ["jobs/daily/alerts.ts", false],
    ["migrations/02a_org_members_role_check.sql", false],
  ])(".dockerignore: %s ignored = %s", (path, ignored) => {
    const patterns = dockerignore
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith("#"));
    expect(dockerIgnored(path, patterns)).toBe(ignored);
  });
});
