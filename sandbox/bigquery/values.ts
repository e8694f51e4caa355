/** Encodes Postgres result rows as BigQuery's REST format: a schema plus rows of `{f:[{v}]}` strings. */
const TYPES: Record<number, string> = {
  16: "BOOLEAN",
  20: "INTEGER",
  21: "INTEGER",
  23: "INTEGER",
  700: "FLOAT",
  701: "FLOAT",
  1700: "NUMERIC",
  1082: "DATE",
  1114: "DATETIME",
  1184: "TIMESTAMP",
  114: "JSON",
  3802: "JSON",
};

export interface BqField {
  name: string;
  type: string;
  mode: "NULLABLE";
}

export function schemaOf(fields: { name: string; dataTypeID: number }[]): { fields: BqField[] } {
  return {
    fields: fields.map((f) => ({ name: f.name, type: TYPES[f.dataTypeID] ?? "STRING", mode: "NULLABLE" })),
  };
}

/** One cell as BigQuery sends it: a string (TIMESTAMP as int64 microseconds, the client's default), or null. */
export function cell(value: unknown, type: string): string | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) {
    if (type === "TIMESTAMP") return String(BigInt(value.getTime()) * 1000n);
    return value.toISOString().replace("Z", "");
  }
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

export function encodeRows(rows: unknown[][], schema: { fields: BqField[] }) {
  return rows.map((row) => ({ f: row.map((v, i) => ({ v: cell(v, schema.fields[i]?.type ?? "STRING") })) }));
}
