/**
 * The release an image carries (RELEASE_VERSION, GIT_COMMIT build arguments). Its own module so that
 * `--version` answers without loading the configuration schema.
 */

/** RELEASE_VERSION and GIT_COMMIT ("dev" when unset), for `--version` and the `release` log label. */
export function readRelease(env: Record<string, unknown>): { version: string; commit: string } {
  const str = (v: unknown) => (typeof v === "string" ? v : undefined);
  return { version: str(env.RELEASE_VERSION) || "dev", commit: str(env.GIT_COMMIT) || "dev" };
}
