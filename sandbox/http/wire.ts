/**
 * Wire formats of Google's REST/JSON mapping: durations ("900s"), enums (names, or numbers when the
 * request asks for `enum-encoding=int`), page tokens.
 */
import { invalid } from "./errors.ts";

/**
 * Parses a JSON-mapped protobuf Duration ("900s", "1.5s") into milliseconds.
 * @example parseDuration("900s", "template.timeout") // 900_000
 */
export function parseDuration(value: unknown, field: string): number {
  if (typeof value === "string") {
    const match = /^(-?\d+(?:\.\d{1,9})?)s$/.exec(value);
    if (match) return Math.round(Number(match[1]) * 1000);
  }
  if (typeof value === "object" && value !== null && "seconds" in value) {
    const v = value as { seconds?: string | number; nanos?: number };
    return Number(v.seconds ?? 0) * 1000 + Math.round((v.nanos ?? 0) / 1e6);
  }
  throw invalid(`Invalid value at '${field}': expected a duration like "900s", got ${JSON.stringify(value)}`);
}

/** @example formatDuration(900_000) // "900s" */
export const formatDuration = (ms: number): string =>
  ms % 1000 === 0 ? `${ms / 1000}s` : `${(ms / 1000).toFixed(3).replace(/0+$/, "")}s`;

/** Whether the client asked for enums as numbers (`$alt=json;enum-encoding=int`). */
export const wantsIntEnums = (query: URLSearchParams): boolean =>
  (query.get("$alt") ?? "").includes("enum-encoding=int");

/** Per-field enum tables: field name → (enum name → number). */
export type EnumTables = Record<string, Record<string, number>>;

/**
 * Copies `value`, turning every enum field named in `tables` into its number (int mode) or keeping its name.
 * Resources are stored with enum names; this is the only place they become numbers.
 * @example encodeEnums({ state: "ENABLED" }, { state: { ENABLED: 1 } }, true) // { state: 1 }
 */
export function encodeEnums<T>(value: T, tables: EnumTables, asInt: boolean): T {
  if (Array.isArray(value)) return value.map((v) => encodeEnums(v, tables, asInt)) as T;
  if (typeof value !== "object" || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    const table = tables[key];
    if (table && typeof v === "string" && asInt && v in table) out[key] = table[v];
    else out[key] = encodeEnums(v, tables, asInt);
  }
  return out as T;
}

/**
 * Reads an enum from a request body, which may carry a number or a name; returns the name.
 * @example decodeEnum(1, { POST: 1 }, "httpTarget.httpMethod") // "POST"
 */
export function decodeEnum(value: unknown, table: Record<string, number>, field: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "string" && value in table) return value;
  if (typeof value === "number") {
    const name = Object.keys(table).find((k) => table[k] === value);
    if (name) return name;
  }
  throw invalid(
    `Invalid value at '${field}': ${JSON.stringify(value)} is not one of ${Object.keys(table).join(", ")}`,
  );
}

/**
 * Pages a list the way Google's list methods do: opaque `pageToken`, `pageSize` (capped).
 * @example const { items, nextPageToken } = paginate(jobs, req.query, 100);
 */
export function paginate<T>(
  all: T[],
  query: URLSearchParams,
  max = 100,
): { items: T[]; nextPageToken?: string } {
  const size = Math.min(Number(query.get("pageSize") ?? max) || max, max);
  const token = query.get("pageToken");
  const start = token ? Number(Buffer.from(token, "base64url").toString("utf8")) : 0;
  if (!Number.isInteger(start) || start < 0) throw invalid(`Invalid pageToken ${JSON.stringify(token)}`);
  const items = all.slice(start, start + size);
  const next =
    start + size < all.length ? Buffer.from(String(start + size)).toString("base64url") : undefined;
  return next ? { items, nextPageToken: next } : { items };
}

/** RFC 3339 timestamp with millisecond precision, as Google returns them. */
export const timestamp = (date: Date): string => date.toISOString();
