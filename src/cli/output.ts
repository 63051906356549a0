/** How results are printed: aligned columns for people, JSON for scripts. */
export type OutputFormat = 'table' | 'json';

export interface Printer {
  readonly format: OutputFormat;
  /** A table in table mode; `json` (or the rows as objects) in JSON mode. */
  table(headers: string[], rows: string[][], json?: unknown): void;
  /** A value: indented JSON for people, one line for scripts. */
  value(value: unknown): void;
  /** A sentence for people; nothing in JSON mode unless `json` is given. */
  line(text: string, json?: unknown): void;
}

export function formatTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((header, column) => Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)));
  const render = (cells: string[]): string =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column]!)))
      .join('  ')
      .trimEnd();
  return [render(headers), ...rows.map(render)].join('\n');
}

export function printer(format: OutputFormat, write: (text: string) => void = (text) => process.stdout.write(`${text}\n`)): Printer {
  return {
    format,
    table(headers, rows, json) {
      if (format === 'json') write(JSON.stringify(json ?? rows.map((row) => Object.fromEntries(headers.map((header, i) => [header.toLowerCase(), row[i]])))));
      else write(rows.length === 0 ? '(none)' : formatTable(headers, rows));
    },
    value(value) {
      write(format === 'json' ? JSON.stringify(value) ?? 'null' : JSON.stringify(value, null, 2) ?? 'null');
    },
    line(text, json) {
      if (format === 'json') {
        if (json !== undefined) write(JSON.stringify(json));
      } else write(text);
    },
  };
}
