/** One figure held against its target, as the table and results.json show it. */
export interface Check {
  benchmark: string;
  measure: string;
  value: string;
  target: string;
  met: boolean | null;
}

export function check(benchmark: string, measure: string, value: string, target: string, met: boolean | null): Check {
  return { benchmark, measure, value, target, met };
}

/** A plain-text table, column widths from the content. */
export function table(checks: readonly Check[]): string {
  const header = ['benchmark', 'measure', 'value', 'target', 'met'];
  const rows = checks.map((c) => [
    c.benchmark,
    c.measure,
    c.value,
    c.target,
    c.met === null ? '' : c.met ? 'yes' : 'NO',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((cell, i) => cell.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

export const fmt = (value: number, digits = 1) =>
  Number.isFinite(value)
    ? value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : 'n/a';
export const int = (value: number) => (Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : 'n/a');
