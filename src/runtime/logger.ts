/**
 * One JSON line per log entry on stdout: Cloud Logging turns `severity` and `message` into a structured
 * entry, and every other key into `jsonPayload` fields. On a TTY the same entry is printed as a short
 * human line instead; an entry that carries an error gets a second line with the likely cause and the fix
 * (error-hints.ts). Stacks are written only at LOG_LEVEL=debug, on a TTY or not. Secret values are replaced
 * by `[redacted]` wherever they appear: message, fields, error messages, stacks and causes.
 */
import { hintFor, plainMessage } from "./error-hints.ts";

export const LOG_LEVELS = ["debug", "info", "notice", "warn", "error"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export type LogFields = Record<string, unknown>;

/** Cloud Logging's severity names for our levels. */
const SEVERITY: Readonly<Record<LogLevel, string>> = {
  debug: "DEBUG",
  info: "INFO",
  notice: "NOTICE",
  warn: "WARNING",
  error: "ERROR",
};

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  notice(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** A logger whose entries also carry `labels` (e.g. `{ org_slug: "acme" }`). */
  child(labels: LogFields): Logger;
}

export interface LoggerOptions {
  /** Entries below this level are dropped. Default "info". */
  level?: LogLevel;
  /** Keys on every entry: job, environment, execution, task, attempt, release. */
  labels?: LogFields;
  /** Receives each complete line (with its newline). Default: process.stdout. */
  write?: (line: string) => void;
  /** Human-readable lines (for a TTY) instead of JSON. */
  pretty?: boolean;
  /** Values never to print (API keys, tokens). */
  secrets?: readonly string[];
  now?: () => Date;
}

export const REDACTED = "[redacted]";
/** Keys an entry owns; a field with the same name is kept under `field_<name>` instead of overwriting it. */
const RESERVED = new Set(["severity", "message", "time"]);
/**
 * Values shorter than this are not treated as secrets: replacing a 1–3 character string would mangle
 * every line, and real keys and tokens are far longer.
 */
const MIN_SECRET_LENGTH = 4;

/**
 * @example
 * const log = createLogger({ level: "info", labels: { job: "quota-reset" }, secrets: [apiKey] });
 * log.info("Reset daily quotas", { orgs_processed: 12 });
 * // {"severity":"INFO","message":"Reset daily quotas","time":"…","job":"quota-reset","orgs_processed":12}
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const threshold = LOG_LEVELS.indexOf(options.level ?? "info");
  const write = options.write ?? ((line: string) => void process.stdout.write(line));
  const now = options.now ?? (() => new Date());
  const redact = createRedactor(options.secrets ?? []);
  const redactText = createTextRedactor(
    (options.secrets ?? []).flatMap((secret) => [secret, JSON.stringify(secret).slice(1, -1)]),
  );
  const withStack = options.level === "debug";

  const make = (labels: LogFields): Logger => {
    const emit = (level: LogLevel, message: string, fields: LogFields = {}) => {
      if (LOG_LEVELS.indexOf(level) < threshold) return;
      const entry: LogFields = { severity: SEVERITY[level], message, time: now().toISOString(), ...labels };
      for (const [key, value] of Object.entries(fields)) {
        entry[RESERVED.has(key) ? `field_${key}` : key] = value;
      }
      // JSON (every line in the cloud): serialise once, then redact the text. Secrets are matched in their
      // JSON-escaped form too, so a key with a quote or a newline in it is still found.
      if (!options.pretty) return write(`${redactText(JSON.stringify(entry, plainReplacer(withStack)))}\n`);
      const safe = redact(toPlain(entry, withStack)) as LogFields;
      const error = Object.values(fields).find((value) => value instanceof Error);
      const hint = error ? hintFor(error) : null;
      write(formatPretty(safe, Object.keys(labels), hint ? String(redact(hint)) : null));
    };
    return {
      debug: (m, f) => emit("debug", m, f),
      info: (m, f) => emit("info", m, f),
      notice: (m, f) => emit("notice", m, f),
      warn: (m, f) => emit("warn", m, f),
      error: (m, f) => emit("error", m, f),
      child: (more) => make({ ...labels, ...more }),
    };
  };
  return make(options.labels ?? {});
}

/** A logger that drops everything (tests, or code that needs a Logger before config is known). */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  notice() {},
  warn() {},
  error() {},
  child: () => silentLogger,
};

/**
 * Returns a function that deep-copies a JSON-ready value with every secret replaced by `[redacted]`.
 * Longest secrets first, so a secret containing another is replaced whole.
 */
export function createRedactor(secrets: readonly string[]): (value: unknown) => unknown {
  const text = createTextRedactor(secrets);
  if (!secrets.some((s) => s.length >= MIN_SECRET_LENGTH)) return (value) => value;
  const walk = (value: unknown): unknown => {
    if (typeof value === "string") return text(value);
    if (Array.isArray(value)) return value.map(walk);
    if (value && typeof value === "object") {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [text(k), walk(v)]));
    }
    return value;
  };
  return walk;
}

/** Replaces every secret in a string by `[redacted]` (longest first, so a secret containing another goes whole). */
function createTextRedactor(secrets: readonly string[]): (text: string) => string {
  const list = [...new Set(secrets.filter((s) => s.length >= MIN_SECRET_LENGTH))].sort(
    (a, b) => b.length - a.length,
  );
  if (!list.length) return (text) => text;
  return (text) =>
    list.reduce((acc, secret) => (acc.includes(secret) ? acc.replaceAll(secret, REDACTED) : acc), text);
}

/**
 * JSON.stringify's replacer doing what toPlain does (errors serialised, bigints as strings, a repeated
 * object cut as "[circular]"), without copying the entry first: one walk per line instead of three.
 */
function plainReplacer(withStack: boolean): (this: unknown, key: string, value: unknown) => unknown {
  const seen = new WeakSet<object>();
  return (_key, value) => {
    if (value instanceof Error) return serializeError(value, withStack);
    if (typeof value === "bigint") return value.toString();
    if (value === null || typeof value !== "object") return value;
    if (seen.has(value)) return "[circular]";
    seen.add(value);
    return value;
  };
}

/**
 * Serialises an error with name, message, status/code and its cause chain (no secrets: redacted later);
 * `withStack` adds the stacks of unexpected errors (LOG_LEVEL=debug).
 */
export function serializeError(error: unknown, withStack = false, depth = 0): unknown {
  if (!(error instanceof Error)) return error;
  const out: LogFields = { name: error.name, message: error.message };
  const extra = error as Error & { status?: unknown; code?: unknown; problems?: unknown };
  if (extra.status !== undefined) out.status = extra.status;
  if (extra.code !== undefined) out.code = extra.code;
  if (Array.isArray(extra.problems) && extra.problems.length) out.problems = extra.problems;
  // Stacks only when debugging, and only for unexpected errors (bugs): our own errors say what and where.
  if (withStack && !["ConfigError", "PermanentError", "RetryableError"].includes(error.name))
    out.stack = error.stack;
  if (error.cause !== undefined && depth < 5) out.cause = serializeError(error.cause, withStack, depth + 1);
  return out;
}

/** Makes a value safe for JSON.stringify: errors serialised, bigints as strings, cycles cut. */
function toPlain(value: unknown, withStack: boolean, seen = new WeakSet<object>()): unknown {
  if (value instanceof Error) return toPlain(serializeError(value, withStack), withStack, seen);
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Date) return value.toISOString();
  if (value === null || typeof value !== "object") return value;
  if (seen.has(value)) return "[circular]";
  seen.add(value);
  if (Array.isArray(value)) return value.map((v) => toPlain(v, withStack, seen));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toPlain(v, withStack, seen)]));
}

const isErrorLike = (value: unknown): value is { message?: unknown; stack?: unknown } =>
  Boolean(value && typeof value === "object" && "message" in value && "name" in value);

/** Fields the terminal line says in words instead of `key=value` (the summary's and a retry's). */
function spoken(entry: LogFields): { hidden: string[]; words: string } {
  if (typeof entry.exit_code === "number") {
    const seconds =
      typeof entry.duration_ms === "number" ? `, ${(entry.duration_ms / 1000).toFixed(1)} s` : "";
    return { hidden: ["status", "exit_code", "duration_ms"], words: `(exit ${entry.exit_code}${seconds})` };
  }
  if (typeof entry.request_attempt === "number") {
    const left = typeof entry.retries_left === "number" ? `, ${entry.retries_left} left` : "";
    return {
      hidden: ["request_attempt", "retries_left", "delay_ms"],
      words: `(attempt ${entry.request_attempt}${left})`,
    };
  }
  return { hidden: [], words: "" };
}

/** Word-wraps `text` to 80 columns, continuation lines indented by `indent`. */
function wrapLines(text: string, indent: string, width = 80): string[] {
  const lines: string[] = [];
  let line = indent;
  for (const word of text.split(" ")) {
    if (line.trim() && line.length + 1 + word.length > width) {
      lines.push(line);
      line = `${indent}  ${word}`;
    } else line = line.trim() ? `${line} ${word}` : `${indent}${word}`;
  }
  if (line.trim()) lines.push(line);
  return lines;
}

/**
 * A terminal line: time, severity, message, then the other fields (labels are left out: a terminal shows one
 * run). An error field is not dumped as JSON: its message is joined to the line (when the message does not
 * already say it), the likely cause and fix go on the next line, a stack (debug only) below; a list of
 * problems is one indented line each.
 */
function formatPretty(entry: LogFields, labelKeys: readonly string[], hint: string | null): string {
  const time = String(entry.time).slice(11, 23);
  const { hidden, words } = spoken(entry);
  const skip = new Set([...RESERVED, "error", "problems", ...hidden, ...labelKeys]);
  const rest = Object.entries(entry)
    .filter(([k, v]) => !skip.has(k) && v !== undefined)
    .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`);
  let message = plainMessage(String(entry.message));
  const error = entry.error;
  const errorText = isErrorLike(error) ? plainMessage(String(error.message)) : "";
  if (errorText && !message.includes(errorText)) message = `${message}: ${errorText}`;
  const tail = [words, rest.join(" ")].filter(Boolean).join("  ");
  const lines = [`${time} ${String(entry.severity).padEnd(7)} ${message}${tail ? `  ${tail}` : ""}`];
  const pad = "  ";
  if (hint) lines.push(...wrapLines(`→ likely cause: ${hint}`, pad));
  if (Array.isArray(entry.problems)) lines.push(...entry.problems.map((p) => `${pad}- ${String(p)}`));
  for (let e: unknown = error; isErrorLike(e); e = (e as { cause?: unknown }).cause) {
    if (typeof e.stack === "string") lines.push(...e.stack.split("\n").map((l) => `${pad}${l}`));
  }
  return `${lines.join("\n")}\n`;
}
