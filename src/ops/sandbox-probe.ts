/**
 * Does the sandbox answer? A TCP connect to its Cloud Run endpoint (loopback: a refusal comes back in
 * about a millisecond), so a stopped sandbox is reported in one line with the command that starts it,
 * instead of the first Google client call failing with a URL-encoded ECONNREFUSED.
 *
 * @example
 * await assertSandboxAnswers("http://127.0.0.1:40123", "CLOUD_RUN_API_URL"); // throws a ConfigError when nothing listens
 */
import { connect } from "node:net";
import { hintFor } from "../runtime/error-hints.ts";
import { ConfigError } from "../runtime/errors.ts";

export const START_SANDBOX = "npm run sandbox";

/** Resolves when something accepts a connection at `url`; rejects with the socket error otherwise. */
function reach(url: string, timeoutMs: number): Promise<void> {
  const { hostname, port, protocol } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port || (protocol === "https:" ? 443 : 80)) });
    socket.setTimeout(timeoutMs, () =>
      socket.destroy(Object.assign(new Error("connect timeout"), { code: "ETIMEDOUT" })),
    );
    socket.once("connect", () => {
      socket.end();
      resolve();
    });
    socket.once("error", reject);
  });
}

/**
 * Throws a one-line ConfigError when the sandbox at `url` does not answer; `from` says where the URL came
 * from (an environment variable or the endpoints file), since that is what to fix when it is stale.
 */
export async function assertSandboxAnswers(url: string, from: string, timeoutMs = 2_000): Promise<void> {
  try {
    await reach(url, timeoutMs);
  } catch (error) {
    const why = hintFor(error) ? "connection refused" : (error as Error).message;
    throw new ConfigError(`no sandbox answers at ${url} (${why}; from ${from}): start it: ${START_SANDBOX}`);
  }
}
