// Benchmarks print a table, then one last line of JSON:
// {"bench": NAME, "results": {...}, "ratios": {...}} (DESIGN §6a).
export function report(
  bench: string,
  rows: Array<Record<string, string | number>>,
  results: Record<string, unknown>,
  ratios: Record<string, number>,
): void {
  const cols = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const width = (c: string) => Math.max(c.length, ...rows.map((r) => String(r[c] ?? '').length));
  const line = (cells: string[]) => cells.map((v, i) => v.padEnd(width(cols[i]!))).join('  ');
  console.log(line(cols));
  console.log(line(cols.map((c) => '-'.repeat(width(c)))));
  for (const r of rows) console.log(line(cols.map((c) => String(r[c] ?? ''))));
  console.log('');
  for (const [k, v] of Object.entries(ratios)) console.log(`ratio ${k}: ${v.toFixed(2)}`);
  console.log(JSON.stringify({ bench, results, ratios }));
}

export function seconds(name: string, dflt: number): number {
  const v = Number(process.env[name] ?? dflt);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} must be a positive number of seconds`);
  return v;
}

export function fmt(n: number): string {
  return n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(2);
}
