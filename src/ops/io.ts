/**
 * The world a command sees, injected so tests drive `main(argv, io)` in-process: environment variables,
 * streams, a TTY flag, the clock, the catalog and an interrupt signal (Ctrl-C).
 *
 * @example
 * const out: string[] = [];
 * await main(["list-jobs", "sandbox", "--json"], { env: sandbox.env, stdout: { write: (s) => out.push(s) } });
 */
import { hintFor, plainMessage } from "../runtime/error-hints.ts";
import type { AnyJob } from "../runtime/job.ts";

export interface Output {
  write(text: string): unknown;
}

export interface Io {
  /** Environment variables (never read process.env below the CLI entry). */
  env: Record<string, string | undefined>;
  stdout: Output;
  stderr: Output;
  /** Where a typed confirmation comes from; absent or ended = no answer. */
  stdin?: AsyncIterable<string | Buffer> | undefined;
  /** True when a person watches: live progress lines and interactive prompts. */
  isTTY?: boolean;
  now?: () => Date;
  /** The catalog to provision; defaults to jobs/index.ts (tests inject a modified one). */
  catalog?: readonly AnyJob[];
  /** Aborted when the operator presses Ctrl-C. */
  interrupt?: AbortSignal;
  /** Root of the checkout (for .sandbox/endpoints.json). */
  cwd?: string;
  /** Fixed poll interval (tests); unset, waiting for an execution follows poll.ts's schedule and others 1 s. */
  pollMs?: number;
  /** How long a finished execution's summary lines may take to reach Cloud Logging (tests shorten it). */
  logWaitMs?: number;
}

/** Exit codes: 0 done, 1 failed or aborted, 2 bad invocation or configuration. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** A full Io from a partial one (tests pass only what they care about). */
export function resolveIo(partial: Partial<Io> = {}): Io {
  return {
    env: partial.env ?? {},
    stdout: partial.stdout ?? process.stdout,
    stderr: partial.stderr ?? process.stderr,
    stdin: partial.stdin,
    isTTY: partial.isTTY ?? false,
    now: partial.now ?? (() => new Date()),
    catalog: partial.catalog,
    interrupt: partial.interrupt,
    cwd: partial.cwd ?? process.cwd(),
    pollMs: partial.pollMs,
    logWaitMs: partial.logWaitMs ?? 10_000,
  };
}

export const println = (out: Output, line = ""): void => {
  out.write(`${line}\n`);
};

/** One line of JSON on stdout (for `--json`). */
export const printJson = (io: Io, value: unknown): void => {
  io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
};

/** One reader per stdin for the life of the command: the unread rest of a chunk waits for the next call. */
interface LineReader {
  iterator: AsyncIterator<string | Buffer>;
  buffer: string;
  ended: boolean;
}
const readers = new WeakMap<object, LineReader>();

/**
 * Reads the next line from stdin; `null` when stdin is absent or has ended. Every call shares one iterator:
 * leaving a `for await` early would destroy the stream, and the next prompt (the cancel question after a prod
 * confirmation) would then fail instead of reading its answer.
 *
 * @example
 * if ((await readLine(io))?.trim() === "yes") …
 */
export async function readLine(io: Io): Promise<string | null> {
  if (!io.stdin) return null;
  let reader = readers.get(io.stdin);
  if (!reader) {
    reader = { iterator: io.stdin[Symbol.asyncIterator](), buffer: "", ended: false };
    readers.set(io.stdin, reader);
  }
  for (;;) {
    const newline = reader.buffer.indexOf("\n");
    if (newline >= 0) {
      const line = reader.buffer.slice(0, newline);
      reader.buffer = reader.buffer.slice(newline + 1);
      return line.replace(/\r$/, "");
    }
    if (reader.ended) {
      const rest = reader.buffer;
      reader.buffer = "";
      return rest.length > 0 ? rest : null;
    }
    const next = await reader.iterator.next();
    if (next.done) reader.ended = true;
    else reader.buffer += next.value.toString();
  }
}

/** Ends the command's stdin reader, if any: an open terminal stdin would keep the process alive. */
export async function closeInput(io: Io): Promise<void> {
  const reader = io.stdin ? readers.get(io.stdin) : undefined;
  if (!io.stdin || !reader) return;
  readers.delete(io.stdin);
  if (!reader.ended) await reader.iterator.return?.();
}

export const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });

/** cli-table3 borders without a rule between rows: one line per job. */
export const COMPACT = { mid: "", "left-mid": "", "mid-mid": "", "right-mid": "" };

/**
 * An error as an operator reads it: its message on one line (OpenSSL noise and URL-encoded slashes made
 * plain), then, for a refused connection, a DNS failure or TLS to a plain-HTTP port, the likely cause and
 * the fix on a second line. No stack.
 *
 * @example println(io.stderr, `error: ${describeError(error)}`);
 */
export function describeError(error: unknown): string {
  const message = plainMessage(error instanceof Error ? error.message : String(error)).replace(/%2F/gi, "/");
  const hint = hintFor(error);
  return hint ? `${message}\n  likely cause: ${hint}` : message;
}

/**
 * Word-wraps a paragraph to `width` columns (an operator's 80-column terminal); a word longer than the
 * width (a URL) stays whole on its own line.
 *
 * @example wrap("a long sentence …", 40) // ["a long sentence …", …]
 */
export function wrap(text: string, width = 80): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}
