/** A statement the sandbox's BigQuery refuses (answered 400 invalidQuery), and Postgres errors put in its words. */
export class InvalidQuery extends Error {
  override name = "InvalidQuery";
}

/**
 * A Postgres error, worded as BigQuery would and naming the construct: never Postgres's own parse error
 * (`syntax error at or near "$1"` means nothing to someone who wrote `@days`).
 */
export function inBigQueryTerms(error: unknown, paramNames: string[]): InvalidQuery {
  const pg = error as { code?: string; message?: string };
  const named = (text: string) =>
    text.replace(/\$(\d+)(::[a-z ]+)?/g, (m, n) =>
      paramNames[Number(n) - 1] ? `@${paramNames[Number(n) - 1]}` : m,
    );
  const message = named(pg.message ?? String(error));
  const near = /at or near "([^"]*)"/.exec(message)?.[1];
  if (pg.code === "42601") {
    return new InvalidQuery(
      `Syntax error: the sandbox's BigQuery cannot translate the construct ${near ? `near "${near}"` : "in this statement"} (see sandbox/bigquery/translate.ts for what it supports)`,
    );
  }
  const fn = /function (\w+)\(/.exec(message)?.[1];
  if (pg.code === "42883" && fn) {
    return new InvalidQuery(
      `Function not found: ${fn.toUpperCase()} (not available in the sandbox's BigQuery)`,
    );
  }
  const column = /column "([^"]+)" does not exist/.exec(message)?.[1];
  if (pg.code === "42703" && column) return new InvalidQuery(`Unrecognized name: ${column}`);
  return new InvalidQuery(`Query error: ${message}`);
}
