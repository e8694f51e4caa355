/**
 * The endpoints file of a running sandbox (`{"env": {...}, "pid": n}`), owned by the process whose pid it
 * carries: claimed atomically before the sandbox starts, refused while another live process owns it, and
 * removed only by its owner.
 *
 * @example
 * const refusal = claimEndpoints(file, process.pid); // null, or why not (names the other pid and endpoints)
 * writeEndpoints(file, { env, pid: process.pid });
 * releaseEndpoints(file, process.pid); // removes it only while it is still ours
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, relative } from "node:path";

interface EndpointsFile {
  pid?: number;
  env?: Record<string, string>;
  starting?: boolean;
}

const read = (file: string): EndpointsFile | null => {
  try {
    return JSON.parse(readFileSync(file, "utf8")) as EndpointsFile;
  } catch {
    // Absent, or half-written by a process that died: nobody owns it.
    return null;
  }
};

/** Whether a process exists; EPERM means it does, under another user. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** What the other sandbox serves, for the refusal: its Cloud Run and admin API URLs. */
function describeOther(other: EndpointsFile, file: string): string {
  const urls = [
    other.env?.CLOUD_RUN_API_URL ? `Cloud Run ${other.env.CLOUD_RUN_API_URL}` : "",
    other.env?.API_SERVICE_URL ? `admin API ${other.env.API_SERVICE_URL}` : "",
  ].filter(Boolean);
  const where = relative(process.cwd(), file) || file;
  return `${where}${urls.length ? `: ${urls.join(", ")}` : other.starting ? " (still starting)" : ""}`;
}

/**
 * Takes the file for `pid`; returns null when taken, or a one-paragraph refusal naming the live owner,
 * its endpoints and the way out. A file whose owner has died is taken over.
 */
export function claimEndpoints(file: string, pid: number): string | null {
  mkdirSync(dirname(file), { recursive: true });
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(file, `${JSON.stringify({ pid, starting: true })}\n`, { flag: "wx" });
      return null;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const other = read(file);
    if (other?.pid === pid) return null;
    if (other?.pid !== undefined && isAlive(other.pid)) {
      return (
        `another sandbox is already running (pid ${other.pid}; endpoints in ${describeOther(other, file)}).\n` +
        `Use that one, stop it (Ctrl-C in its terminal, or kill ${other.pid}), or give this one its own state: ` +
        "npm run sandbox -- --state-dir .sandbox-2"
      );
    }
    // Its owner is gone: remove it and claim again (another starter may win the race; the loop re-reads).
    rmSync(file, { force: true });
  }
  return `could not claim ${file}: another sandbox keeps taking it; try again`;
}

export function writeEndpoints(file: string, content: { env: Record<string, string>; pid: number }): void {
  writeFileSync(file, `${JSON.stringify(content, null, 2)}\n`);
}

/** Removes the file only while it is `pid`'s: a sandbox never deletes another one's endpoints. */
export function releaseEndpoints(file: string, pid: number): boolean {
  if (read(file)?.pid !== pid) return false;
  rmSync(file, { force: true });
  return true;
}
