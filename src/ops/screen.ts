/**
 * Screens that fit the terminal: its width (COLUMNS, else the stream's own `columns`, else 80 — so a pipe
 * or a log file gets the 80-column layout), and a table that wraps its widest cells rather than the
 * terminal wrapping its rows.
 *
 * @example
 * const width = screenWidth(io);
 * println(io.stdout, fitTable(["job", "verdict"], rows, width));
 */
import Table from "cli-table3";
import { COMPACT, type Io } from "./io.ts";

/** Where no width is known (a pipe, a file, CI logs). */
export const DEFAULT_WIDTH = 80;

/** The terminal's width in columns: COLUMNS when set to a number, else stdout's `columns`, else 80. */
export function screenWidth(io: Pick<Io, "env" | "stdout">): number {
  const fromEnv = Number(io.env.COLUMNS);
  if (Number.isInteger(fromEnv) && fromEnv > 0) return fromEnv;
  const columns = (io.stdout as { columns?: unknown }).columns;
  return typeof columns === "number" && columns > 0 ? columns : DEFAULT_WIDTH;
}

/** Widest line of `text`, in characters (box-drawing and arrows are one column each). */
export const textWidth = (text: string): number =>
  Math.max(0, ...text.split("\n").map((line) => [...line].length));

const render = (head: string[], rows: string[][], colWidths?: number[]) => {
  const table = new Table({
    head,
    style: { head: [], border: [] },
    chars: COMPACT,
    ...(colWidths ? { colWidths, wordWrap: true, wrapOnWordBoundary: true } : {}),
  });
  table.push(...rows);
  return table.toString();
};

/**
 * A table in the house style (one line per row) no wider than `width`: as it is when it fits, else the
 * widest columns are narrowed (their cells wrap onto a second line) until it fits.
 */
export function fitTable(head: string[], rows: string[][], width: number): string {
  const natural = render(head, rows);
  if (textWidth(natural) <= width) return natural;
  // A column's natural width: its longest cell line plus cli-table3's one space each side.
  const widths = head.map((h, i) => Math.max(...[h, ...rows.map((r) => r[i] ?? "")].map(textWidth)) + 2);
  const borders = head.length + 1;
  while (widths.reduce((a, b) => a + b, 0) + borders > width) {
    const widest = widths.indexOf(Math.max(...widths));
    if ((widths[widest] ?? 0) <= 6) break; // nothing sensible left to narrow
    widths[widest] = (widths[widest] ?? 0) - 1;
  }
  return render(head, rows, widths);
}

/**
 * `text` broken at spaces into lines no wider than `width`; continuation lines keep the line's own leading
 * spaces plus `indent` more. A word longer than a line (a URL, a digest) stays whole on a line of its own.
 *
 * @example wrapLine("  fired: a-trigger, b-trigger", 20) // ["  fired: a-trigger,", "    b-trigger"]
 */
export function wrapLine(text: string, width: number, indent = 2): string[] {
  const lead = text.match(/^ */)?.[0] ?? "";
  const next = `${lead}${" ".repeat(indent)}`;
  const lines: string[] = [];
  let line = lead;
  for (const word of text.slice(lead.length).split(" ")) {
    const fresh = line === lead || line === next;
    const candidate = fresh ? `${line}${word}` : `${line} ${word}`;
    if (!fresh && [...candidate].length > width) {
      lines.push(line);
      line = `${next}${word}`;
    } else line = candidate;
  }
  lines.push(line);
  return lines;
}

/**
 * A plan's field change, `      field: from → to`, on one line when it fits `width`; else the field on
 * its own line and the values under it, `from` and `→ to` on lines of their own when even that is too wide.
 */
export function changeLines(field: string, from: string, to: string, width = DEFAULT_WIDTH): string[] {
  const one = `      ${field}: ${from} → ${to}`;
  if (textWidth(one) <= width) return [one];
  const both = `          ${from} → ${to}`;
  return textWidth(both) <= width
    ? [`      ${field}:`, both]
    : [`      ${field}:`, `          ${from}`, `        → ${to}`];
}
