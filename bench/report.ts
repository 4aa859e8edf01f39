/** Plain-text tables and number formats for the benchmark's output. */

export type Align = 'left' | 'right';

/** A table with a header rule; numbers are right-aligned by passing 'right' for their columns. */
export function table(headers: string[], rows: string[][], align: Align[] = []): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => ((align[i] ?? 'left') === 'right' ? cell.padStart(widths[i]) : cell.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export function fixed(value: number, digits: number): string {
  return Number.isFinite(value) ? value.toFixed(digits) : 'n/a';
}

export function integer(value: number): string {
  return Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : 'n/a';
}

export function seconds(value: number): string {
  return value >= 60 ? `${Math.floor(value / 60)} min ${(value % 60).toFixed(0)} s` : `${value.toFixed(1)} s`;
}

export function heading(text: string): string {
  return `\n${text}\n${'='.repeat(text.length)}`;
}
