/**
 * The migration folder, checked before a single request is sent: it must exist, be a directory and hold
 * `.sql` files named `NN_name.sql` or `NNa_name.sql` (two digits, an optional lowercase letter), with no
 * two files sharing a number and suffix. Files are ordered by number, then suffix ("" before "a"), then
 * name. Anything wrong is a ConfigError (exit 2) naming the file and the fix.
 *
 * @example
 * const files = await readMigrations("migrations/"); // [{ filename: "01_profiles.sql", number: 1, … }]
 */
import { createHash } from "node:crypto";
import { readdir, readFile, stat } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { ConfigError } from "./errors.ts";

/** `NN_name.sql` or a suffix variant `NNa_name.sql` (CONTRACT §2). */
export const FILE_PATTERN = /^(\d{2})([a-z]?)_([a-z0-9][a-z0-9_-]*)\.sql$/;

export interface MigrationFile {
  filename: string;
  number: number;
  suffix: string;
  sql: string;
  /** Full sha256 hex of the file's bytes. */
  checksum: string;
}

/** Numeric prefix, then suffix ("" before "a"), then name. */
/** Code-point order: the same on every machine (localeCompare follows the locale, and loads ICU's data). */
const byCodePoint = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);

export const compareMigrations = (a: MigrationFile, b: MigrationFile): number =>
  a.number - b.number || byCodePoint(a.suffix, b.suffix) || byCodePoint(a.filename, b.filename);

const DIR_FIX =
  "pass --dir <folder holding NN_name.sql files>, or leave --dir out to use the image's migrations/";

/** Every `*.sql` file of `dir`, checked and ordered; throws ConfigError before anything is sent. */
export async function readMigrations(dir: string | URL): Promise<MigrationFile[]> {
  const path = typeof dir === "string" ? dir : fileURLToPath(dir);
  const info = await stat(path).catch((error: NodeJS.ErrnoException) => error);
  if (info instanceof Error) {
    const why = info.code === "ENOENT" ? "does not exist" : `cannot be read (${info.code ?? info.message})`;
    throw new ConfigError(`--dir ${path} ${why}: ${DIR_FIX}`);
  }
  if (!info.isDirectory()) throw new ConfigError(`--dir ${path} is a file, not a directory: ${DIR_FIX}`);
  const entries = await readdir(path, { withFileTypes: true });
  // Case-insensitive, so `04_X.SQL` is refused by name instead of silently skipped.
  const names = entries.filter((e) => e.isFile() && /\.sql$/i.test(e.name)).map((e) => e.name);
  if (names.length === 0) {
    throw new ConfigError(`--dir ${path} holds no .sql migration files: ${DIR_FIX}`);
  }
  checkNames(path, names);
  const files = await Promise.all(
    names.map(async (filename) => {
      const bytes = await readFile(`${path}/${filename}`);
      const [, number = "0", suffix = ""] = FILE_PATTERN.exec(filename) ?? [];
      return {
        filename,
        number: Number(number),
        suffix,
        sql: bytes.toString("utf8"),
        checksum: createHash("sha256").update(bytes).digest("hex"),
      };
    }),
  );
  return files.sort(compareMigrations);
}

/** Every naming problem at once: a bad name, or two files with the same number and suffix. */
function checkNames(path: string, names: string[]): void {
  const problems = names
    .filter((n) => !FILE_PATTERN.test(n))
    .map((n) => `${n}: rename it to NN_name.sql (two digits, lowercase), e.g. ${suggestName(n)}`);
  const byKey = new Map<string, string[]>();
  for (const n of names) {
    const m = FILE_PATTERN.exec(n);
    if (m) byKey.set(`${m[1]}${m[2]}`, [...(byKey.get(`${m[1]}${m[2]}`) ?? []), n]);
  }
  for (const [key, same] of byKey) {
    if (same.length < 2) continue;
    const [, ...later] = same.sort();
    const number = key.slice(0, 2);
    const taken = new Set([...byKey.keys()].filter((k) => k.startsWith(number)).map((k) => k.slice(2)));
    const renames = later.map((n) => {
      const free = [..."abcdefghijklmnopqrstuvwxyz"].find((c) => !taken.has(c)) ?? "z";
      taken.add(free);
      return `${n} → ${number}${free}${n.slice(key.length)}`;
    });
    problems.push(
      `${same.join(", ")} share the prefix ${key}: give each its own, e.g. ${renames.join(", ")} ` +
        "(if a renamed file was already applied, rename its schema_migrations row too)",
    );
  }
  if (problems.length) {
    throw new ConfigError(
      `migrations in ${path} are not named NN_name.sql or NNa_name.sql, one per prefix`,
      problems,
    );
  }
}

function suggestName(name: string): string {
  const base = name.replace(/\.sql$/i, "").toLowerCase();
  const m = /^(\d+)([a-z]?)_?(.*)$/.exec(base);
  const rest = (m ? m[3] : base)?.replace(/[^a-z0-9_-]+/g, "_").replace(/^_+/, "") || "name";
  const number = m ? String(Number(m[1])).padStart(2, "0") : "NN";
  return `${number}${m?.[2] ?? ""}_${rest}.sql`;
}
