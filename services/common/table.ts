// Tables for the terminal, for markdown summaries, and as CSV files.
export type Row = Record<string, string | number | boolean | null | undefined>;

const cell = (v: Row[string], digits: number): string =>
  typeof v === "number" ? (Number.isInteger(v) ? String(v) : v.toFixed(digits)) : v == null ? "" : String(v);

/** A markdown table; it also reads well in a terminal. */
export function markdownTable(rows: Row[], digits = 1, columns = columnsOf(rows)): string {
  const body = rows.map((r) => columns.map((c) => cell(r[c], digits)));
  const widths = columns.map((c, i) => Math.max(c.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
  return [line(columns), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...body.map(line)].join("\n");
}

export function toCsv(rows: Row[], columns = columnsOf(rows)): string {
  const esc = (v: Row[string]) => {
    const s = v == null ? "" : String(v);
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [columns.join(","), ...rows.map((r) => columns.map((c) => esc(r[c])).join(","))].join("\n") + "\n";
}

function columnsOf(rows: Row[]): string[] {
  return [...new Set(rows.flatMap((r) => Object.keys(r)))];
}
