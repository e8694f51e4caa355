import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // PGlite and child processes are heavy on a 2-core machine: keep parallelism modest.
    maxWorkers: 2,
    env: { NO_COLOR: "1" },
  },
});
