/**
 * Prod confirmation (FR-SJ-001.5, NFR-SJ-002.4): before anything that changes or runs in an environment with
 * `requiresConfirmation`, the operator types "yes" (a TTY), pipes it (`echo yes | ./scripts/release.sh prod`)
 * or passes `--yes`. Anything else — a closed or empty stdin included — aborts, with nothing changed.
 *
 * @example
 * if (!(await confirm(target, io, { yes: args.yes, action: "apply 3 changes" }))) return EXIT.failed;
 */
import { type Io, println, readLine } from "./io.ts";
import type { Target } from "./target.ts";

export const ABORTED = "aborted: nothing was changed";

export async function confirm(
  target: Target,
  io: Io,
  options: { yes: boolean; action: string },
): Promise<boolean> {
  if (!target.env.requiresConfirmation || options.yes) return true;
  io.stderr.write(
    `About to ${options.action} in ${target.env.name} (project ${target.env.project}). Type "yes" to continue: `,
  );
  const answer = await readLine(io);
  if (answer?.trim().toLowerCase() === "yes") {
    if (!io.isTTY) println(io.stderr, "yes");
    return true;
  }
  println(io.stderr, "");
  println(
    io.stderr,
    answer === null ? `${ABORTED} (no answer on stdin; pass --yes to confirm from a script)` : ABORTED,
  );
  return false;
}
