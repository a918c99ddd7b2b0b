/** Exact sum of signed decimal strings (PnL and positions from several engines). */
export function sumDecimals(values: Array<string | undefined>): string {
  const list = values.filter((v): v is string => !!v && /^-?\d+(\.\d+)?$/.test(v));
  const scale = Math.max(0, ...list.map((v) => v.split('.')[1]?.length ?? 0));
  let total = 0n;
  for (const v of list) {
    const neg = v.startsWith('-');
    const [w, f = ''] = v.replace('-', '').split('.') as [string, string?];
    const n = BigInt(w + f.padEnd(scale, '0'));
    total += neg ? -n : n;
  }
  const neg = total < 0n;
  const digits = (neg ? -total : total).toString().padStart(scale + 1, '0');
  const whole = digits.slice(0, digits.length - scale);
  return `${neg ? '-' : ''}${whole}${scale ? `.${digits.slice(digits.length - scale)}` : ''}`;
}
