/**
 * BigQuery's date and time functions, rewritten into Postgres (after ./translate.ts turned strings into
 * '…' literals and @params into `$n::type`). Supported, and what the old jobs and the real admin API use:
 * - `CURRENT_DATE()` / `CURRENT_DATE`, `CURRENT_TIMESTAMP()`: the sandbox clock's instant (UTC), so a test
 *   that moves the clock moves "today" too;
 * - `INTERVAL <int expr> <unit>` (YEAR, QUARTER, MONTH, WEEK, DAY, HOUR, MINUTE, SECOND), the expression a
 *   number, a parameter or a parenthesised expression: `DATE_SUB(CURRENT_DATE(), INTERVAL @days DAY)`;
 * - `DATE_SUB`, `DATE_ADD`, `TIMESTAMP_SUB`, `TIMESTAMP_ADD`, `DATETIME_SUB`, `DATETIME_ADD`;
 * - `DATE_TRUNC(d, DAY|MONTH|QUARTER|YEAR)`, `TIMESTAMP_TRUNC(t, part)`; `IFNULL` (as COALESCE).
 * Anything in UNSUPPORTED is refused by name (InvalidQuery → 400 invalidQuery), never sent to Postgres.
 */
import { InvalidQuery } from "./invalid-query.ts";

const SUPPORTED =
  "CURRENT_DATE(), CURRENT_TIMESTAMP(), DATE_SUB/DATE_ADD, TIMESTAMP_SUB/TIMESTAMP_ADD, DATETIME_SUB/DATETIME_ADD, DATE_TRUNC, TIMESTAMP_TRUNC, IFNULL, INTERVAL n UNIT";

/** BigQuery functions with no translation here (Postgres lacks them or means something else by them). */
const UNSUPPORTED = new Set(
  `FORMAT_DATE FORMAT_TIMESTAMP FORMAT_DATETIME PARSE_DATE PARSE_TIMESTAMP PARSE_DATETIME DATE_DIFF
   TIMESTAMP_DIFF DATETIME_DIFF DATE_FROM_UNIX_DATE UNIX_SECONDS UNIX_MILLIS UNIX_DATE
   TIMESTAMP_SECONDS TIMESTAMP_MILLIS GENERATE_DATE_ARRAY GENERATE_ARRAY GENERATE_TIMESTAMP_ARRAY
   SAFE_CAST SAFE_DIVIDE ARRAY_LENGTH STRUCT FARM_FINGERPRINT TO_JSON_STRING JSON_EXTRACT
   JSON_EXTRACT_SCALAR JSON_VALUE JSON_QUERY REGEXP_CONTAINS REGEXP_EXTRACT APPROX_COUNT_DISTINCT
   COUNTIF LOGICAL_OR LOGICAL_AND ANY_VALUE`.split(/\s+/),
);

const INTERVAL_UNITS: Record<string, (e: string) => string> = {
  YEAR: (e) => `years => (${e})::int`,
  QUARTER: (e) => `months => 3 * (${e})::int`,
  MONTH: (e) => `months => (${e})::int`,
  WEEK: (e) => `weeks => (${e})::int`,
  DAY: (e) => `days => (${e})::int`,
  HOUR: (e) => `hours => (${e})::int`,
  MINUTE: (e) => `mins => (${e})::int`,
  SECOND: (e) => `secs => (${e})::double precision`,
};
const TRUNC_PARTS = new Set(["DAY", "MONTH", "QUARTER", "YEAR", "HOUR", "MINUTE", "SECOND"]);

export interface Clock {
  /** Adds a parameter and returns its `$n` placeholder. */
  param(value: unknown): string;
  now: Date;
}

/** Rewrites every supported construct in `sql`; refuses the unsupported ones by name. */
export function rewriteFunctions(sql: string, clock: Clock): string {
  let out = "";
  let i = 0;
  while (i < sql.length) {
    const c = sql[i] ?? "";
    if (c === "'") {
      const end = quoteEnd(sql, i);
      out += sql.slice(i, end + 1);
      i = end + 1;
      continue;
    }
    const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(sql.slice(i))?.[0];
    if (!word || /[A-Za-z0-9_$]/.test(sql[i - 1] ?? "")) {
      out += c;
      i += 1;
      continue;
    }
    const name = word.toUpperCase();
    let j = i + word.length;
    const open = /^\s*\(/.exec(sql.slice(j));
    if (name === "SAFE" && sql[j] === ".")
      throw new InvalidQuery(
        `SAFE.-prefixed functions are not supported by the sandbox's BigQuery (it translates ${SUPPORTED})`,
      );
    if (name === "CURRENT_DATE" || name === "CURRENT_TIMESTAMP") {
      const empty = /^\s*\(\s*\)/.exec(sql.slice(j));
      if (empty) j += empty[0].length;
      out +=
        name === "CURRENT_DATE"
          ? `${clock.param(clock.now.toISOString().slice(0, 10))}::date`
          : `${clock.param(clock.now.toISOString())}::timestamptz`;
      i = j;
      continue;
    }
    if (name === "INTERVAL") {
      const { text, next } = interval(sql, j, clock);
      out += text;
      i = next;
      continue;
    }
    if (!open) {
      out += word;
      i = j;
      continue;
    }
    if (UNSUPPORTED.has(name)) {
      throw new InvalidQuery(
        `Function ${name} is not supported by the sandbox's BigQuery (it translates ${SUPPORTED})`,
      );
    }
    const start = j + open[0].length;
    const close = closingParen(sql, start - 1);
    const args = splitArgs(sql.slice(start, close)).map((a) => rewriteFunctions(a, clock).trim());
    const call = callFor(name, args);
    out += call ?? `${word}(${args.join(", ")})`;
    i = close + 1;
  }
  return out;
}

function callFor(name: string, args: string[]): string | undefined {
  const two = () => {
    if (args.length !== 2) throw new InvalidQuery(`${name} takes 2 arguments, got ${args.length}`);
    return args as [string, string];
  };
  const withInterval = (cast: string, op: "+" | "-") => {
    const [a, b] = two();
    if (!b.startsWith("make_interval(")) {
      throw new InvalidQuery(`${name}: the second argument must be INTERVAL <n> <unit>, got "${b}"`);
    }
    return cast === "date" ? `(CAST(${a} AS date) ${op} ${b})::date` : `(CAST(${a} AS ${cast}) ${op} ${b})`;
  };
  const trunc = (cast: string) => {
    const [a, part] = two();
    const p = part.toUpperCase();
    if (!TRUNC_PARTS.has(p) || (cast === "date" && !["DAY", "MONTH", "QUARTER", "YEAR"].includes(p))) {
      throw new InvalidQuery(
        `${name}: date part ${part} is not supported by the sandbox's BigQuery (use DAY, MONTH, QUARTER or YEAR${cast === "date" ? "" : ", HOUR, MINUTE, SECOND"})`,
      );
    }
    const body = `date_trunc('${p.toLowerCase()}', CAST(${a} AS ${cast}))`;
    return cast === "date" ? `${body}::date` : body;
  };
  switch (name) {
    case "DATE_SUB":
      return withInterval("date", "-");
    case "DATE_ADD":
      return withInterval("date", "+");
    case "TIMESTAMP_SUB":
      return withInterval("timestamptz", "-");
    case "TIMESTAMP_ADD":
      return withInterval("timestamptz", "+");
    case "DATETIME_SUB":
      return withInterval("timestamp", "-");
    case "DATETIME_ADD":
      return withInterval("timestamp", "+");
    case "DATE_TRUNC":
      return trunc("date");
    case "TIMESTAMP_TRUNC":
      return trunc("timestamptz");
    case "IFNULL":
      two();
      return `COALESCE(${args.join(", ")})`;
    default:
      return undefined;
  }
}

/** `INTERVAL <expr> <UNIT>` starting after the keyword at `j`. */
function interval(sql: string, j: number, clock: Clock): { text: string; next: number } {
  const rest = sql.slice(j);
  const lead = /^\s*/.exec(rest)?.[0].length ?? 0;
  let k = j + lead;
  let expr: string;
  if (sql[k] === "(") {
    const close = closingParen(sql, k);
    expr = rewriteFunctions(sql.slice(k + 1, close), clock);
    k = close + 1;
  } else {
    const m = /^(-?\d+|\$\d+::(?:double precision|[a-z]+))/.exec(sql.slice(k));
    if (!m) {
      throw new InvalidQuery(
        `INTERVAL must be followed by a whole number, a @parameter or a (expression), then a unit (e.g. INTERVAL @days DAY); the sandbox's BigQuery does not support "INTERVAL ${sql.slice(k, k + 20).trim()}"`,
      );
    }
    expr = m[0];
    k += m[0].length;
  }
  const unit = /^\s+([A-Za-z]+)/.exec(sql.slice(k));
  const make = unit ? INTERVAL_UNITS[unit[1]?.toUpperCase() ?? ""] : undefined;
  if (!unit || !make) {
    throw new InvalidQuery(
      `INTERVAL unit ${unit?.[1] ?? "(missing)"} is not supported by the sandbox's BigQuery (use ${Object.keys(INTERVAL_UNITS).join(", ")})`,
    );
  }
  return { text: `make_interval(${make(expr)})`, next: k + unit[0].length };
}

function quoteEnd(sql: string, start: number): number {
  for (let j = start + 1; j < sql.length; j++) {
    if (sql[j] === "'" && sql[j + 1] === "'") j += 1;
    else if (sql[j] === "'") return j;
  }
  return sql.length - 1;
}

/** Index of the `)` matching the `(` at `open`, skipping string literals. */
function closingParen(sql: string, open: number): number {
  let depth = 0;
  for (let j = open; j < sql.length; j++) {
    const c = sql[j];
    if (c === "'") j = quoteEnd(sql, j);
    else if (c === "(") depth += 1;
    else if (c === ")" && --depth === 0) return j;
  }
  throw new InvalidQuery("unbalanced parentheses");
}

/** Splits at top-level commas (not inside parentheses or strings). */
function splitArgs(text: string): string[] {
  const args: string[] = [];
  let depth = 0;
  let from = 0;
  for (let j = 0; j < text.length; j++) {
    const c = text[j];
    if (c === "'") j = quoteEnd(text, j);
    else if (c === "(") depth += 1;
    else if (c === ")") depth -= 1;
    else if (c === "," && depth === 0) {
      args.push(text.slice(from, j));
      from = j + 1;
    }
  }
  if (text.trim() !== "" || args.length) args.push(text.slice(from));
  return args;
}
