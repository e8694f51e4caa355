/**
 * The NARROW translation from BigQuery Standard SQL to the warehouse's Postgres. What it does, and all
 * it does:
 * - one statement (a trailing `;` is fine) starting with SELECT, WITH, INSERT, UPDATE or DELETE; anything
 *   else (DDL, MERGE, scripting, several statements) is refused. UPDATE and DELETE need a WHERE clause,
 *   as in BigQuery.
 * - backticked table names `` `project.dataset.table` `` (or `` `dataset.table` ``) become
 *   `"dataset"."table"`; the project must be the one in the URL. Unquoted table names are left alone and
 *   so only resolve when Postgres resolves them the same way.
 * - named parameters `@name` become `$n::<type>` from `queryParameters` (types STRING, INT64, FLOAT64,
 *   NUMERIC, BOOL, DATE, TIMESTAMP, DATETIME); ARRAY/STRUCT and positional `?` parameters are refused.
 * - "double-quoted" strings become 'single-quoted' ones;
 * - date and time functions (`CURRENT_DATE()`, `DATE_SUB(…, INTERVAL @days DAY)`, `TIMESTAMP_SUB`, …) as
 *   ./functions.ts says, on the sandbox clock; known BigQuery-only functions are refused by name.
 * Everything else is passed through: a construct Postgres cannot run is answered as a 400 invalidQuery
 * in BigQuery's words (server.ts), never answered wrongly.
 */
import { rewriteFunctions } from "./functions.ts";
import { InvalidQuery } from "./invalid-query.ts";

export { InvalidQuery };

export interface QueryParameter {
  name?: string;
  parameterType?: { type?: string; arrayType?: unknown; structTypes?: unknown };
  parameterValue?: { value?: unknown; arrayValues?: unknown };
}

export type StatementType = "SELECT" | "INSERT" | "UPDATE" | "DELETE";

export interface Translated {
  sql: string;
  params: unknown[];
  statementType: StatementType;
  /** `dataset.table` of every backticked table, for existence checks. */
  tables: { dataset: string; table: string }[];
  /** `@name` of each `$n` (index n-1; "" for values the sandbox added), to word errors in BigQuery's terms. */
  paramNames: string[];
}

const PG_CASTS: Record<string, string> = {
  STRING: "text",
  INT64: "bigint",
  INTEGER: "bigint",
  FLOAT64: "double precision",
  FLOAT: "double precision",
  NUMERIC: "numeric",
  BIGNUMERIC: "numeric",
  BOOL: "boolean",
  BOOLEAN: "boolean",
  DATE: "date",
  TIMESTAMP: "timestamptz",
  DATETIME: "timestamp",
};

/**
 * @example
 * translate("DELETE FROM `p.organizations.org_usage_quotas` WHERE usage_date < @cutoff", "p",
 *   [{ name: "cutoff", parameterType: { type: "DATE" }, parameterValue: { value: "2026-01-01" } }]);
 * // → { sql: 'DELETE FROM "organizations"."org_usage_quotas" WHERE usage_date < $1::date', params: ["2026-01-01"], … }
 */
export function translate(
  query: string,
  projectId: string,
  parameters: QueryParameter[] = [],
  now: Date = new Date(),
): Translated {
  const byName = new Map<string, QueryParameter>();
  for (const p of parameters) {
    if (!p.name)
      throw new InvalidQuery("positional query parameters (?) are not supported by the sandbox: use @name");
    if (p.parameterType?.arrayType || p.parameterType?.structTypes) {
      throw new InvalidQuery(
        `query parameter @${p.name}: ARRAY and STRUCT parameters are not supported by the sandbox`,
      );
    }
    byName.set(p.name.toLowerCase(), p);
  }
  const params: unknown[] = [];
  const paramNames: string[] = [];
  const slots = new Map<string, number>();
  const tables: Translated["tables"] = [];
  let out = "";
  let i = 0;
  const src = query.trim().replace(/;\s*$/, "");
  while (i < src.length) {
    const c = src[i] ?? "";
    const next = src[i + 1] ?? "";
    if (c === "-" && next === "-") {
      const end = src.indexOf("\n", i);
      i = end === -1 ? src.length : end;
    } else if (c === "/" && next === "*") {
      const end = src.indexOf("*/", i + 2);
      if (end === -1) throw new InvalidQuery("unterminated /* comment");
      i = end + 2;
      out += " ";
    } else if (c === "'" || c === '"') {
      const end = stringEnd(src, i, c);
      out += `'${src
        .slice(i + 1, end)
        .replaceAll(`\\${c}`, c)
        .replaceAll("'", "''")}'`;
      i = end + 1;
    } else if (c === "`") {
      const end = src.indexOf("`", i + 1);
      if (end === -1) throw new InvalidQuery("unterminated ` in a table name");
      const ref = tableRef(src.slice(i + 1, end), projectId);
      tables.push(ref);
      out += `"${ref.dataset}"."${ref.table}"`;
      i = end + 1;
    } else if (c === "@" && /[A-Za-z_]/.test(next)) {
      const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i + 1))?.[0] ?? "";
      const p = byName.get(name.toLowerCase());
      if (!p) throw new InvalidQuery(`Query parameter '${name}' not found: pass it in params`);
      let slot = slots.get(name.toLowerCase());
      if (slot === undefined) {
        params.push(p.parameterValue?.value ?? null);
        paramNames[params.length - 1] = name;
        slot = params.length;
        slots.set(name.toLowerCase(), slot);
      }
      const type = (p.parameterType?.type ?? "STRING").toUpperCase();
      const cast = PG_CASTS[type];
      if (!cast)
        throw new InvalidQuery(`query parameter @${name}: type ${type} is not supported by the sandbox`);
      out += `$${slot}::${cast}`;
      i += name.length + 1;
    } else if (c === "?") {
      throw new InvalidQuery("positional query parameters (?) are not supported by the sandbox: use @name");
    } else if (c === ";") {
      throw new InvalidQuery("only one statement per query is supported by the sandbox (no scripts)");
    } else {
      out += c;
      i += 1;
    }
  }
  out = rewriteFunctions(out, {
    now,
    param(value) {
      params.push(value);
      paramNames[params.length - 1] = "";
      return `$${params.length}`;
    },
  });
  return { sql: out.trim(), params, statementType: statementType(out), tables, paramNames };
}

function stringEnd(src: string, start: number, quote: string): number {
  for (let j = start + 1; j < src.length; j++) {
    if (src[j] === "\\") j += 1;
    else if (src[j] === quote) return j;
  }
  throw new InvalidQuery(`unterminated string literal starting at offset ${start}`);
}

function tableRef(ref: string, projectId: string): { dataset: string; table: string } {
  const parts = ref.split(".");
  if (parts.length === 3 && parts[0] !== projectId) {
    throw new InvalidQuery(
      `table \`${ref}\` is in project ${parts[0]}, but this query runs in project ${projectId}`,
    );
  }
  const [dataset, table] = parts.slice(-2);
  if (
    parts.length < 2 ||
    parts.length > 3 ||
    !dataset ||
    !table ||
    !/^\w+$/.test(dataset) ||
    !/^\w+$/.test(table)
  ) {
    throw new InvalidQuery(`table name \`${ref}\` must be \`project.dataset.table\` or \`dataset.table\``);
  }
  return { dataset, table };
}

function statementType(sql: string): StatementType {
  const first = /^\s*\(*\s*([A-Za-z]+)/.exec(sql)?.[1]?.toUpperCase() ?? "";
  if (first === "SELECT" || first === "WITH") {
    return "SELECT";
  }
  if (first === "INSERT") return "INSERT";
  if (first === "UPDATE" || first === "DELETE") {
    if (!/\bWHERE\b/i.test(sql))
      throw new InvalidQuery(`${first} must have a WHERE clause (use WHERE true for all rows)`);
    return first;
  }
  throw new InvalidQuery(
    `statement ${first || "(empty)"} is not supported by the sandbox: only SELECT, INSERT, UPDATE and DELETE`,
  );
}
