/** The entrypoint's exit codes (what each means: runner.ts). A module of their own so `--help` loads nothing else. */
export const EXIT = { ok: 0, failed: 1, usage: 2, unknown: 3, SIGINT: 130, SIGTERM: 143 } as const;
