/** Where the commands write; tests read the child process's stdout. */
export function print(line = ''): void {
  process.stdout.write(`${line}\n`);
}

/** Rows as aligned columns under a header; an empty list prints `(none)`. */
export function printTable(header: string[], rows: string[][]): void {
  if (rows.length === 0) {
    print('(none)');
    return;
  }
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  print(line(header));
  for (const row of rows) print(line(row));
}
