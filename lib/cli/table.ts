/** Plain-text tables and number formats for the CLI's reports. */

/** Columns padded to their widest cell; `align` has one letter per column, l or r. */
export function table(header: string[], rows: string[][], align: string): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((cell, i) => (align[i] === 'r' ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return `${[line(header), ...rows.map(line)].join('\n')}\n`;
}

export function percent(share: number): string {
  return `${(share * 100).toFixed(1)}%`;
}

export function count(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}
