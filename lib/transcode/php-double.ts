/**
 * A double as php-memcached writes it (its g_fmt: the shortest digits that
 * read back the same, no leading zero, an exponent of at least two digits
 * when that is shorter), so a value memring stores is byte for byte what PHP
 * would have stored: 1.0 → "1", 0.1 + 0.2 → ".30000000000000004",
 * 1e15 → "1e+15", 1e-7 → "1e-07", INF → "Infinity".
 */
export function phpDouble(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  const sign = x < 0 || Object.is(x, -0) ? '-' : '';
  if (x === 0) return `${sign}0`;
  // toExponential() without digits gives the shortest round-trip digits, as zend_dtoa mode 0.
  const shown = Math.abs(x).toExponential();
  const e = shown.indexOf('e');
  const digits = shown.charAt(0) + shown.slice(2, e);
  // Where the decimal point falls: the value is 0.<digits> × 10^point.
  let point = Number(shown.slice(e + 1)) + 1;
  const n = digits.length;
  if (point <= -4 || point > n + 5) {
    const mantissa = n > 1 ? `${digits.charAt(0)}.${digits.slice(1)}` : digits;
    point--;
    const exponent = Math.abs(point);
    return `${sign}${mantissa}e${point < 0 ? '-' : '+'}${exponent < 10 ? '0' : ''}${exponent}`;
  }
  if (point <= 0) return `${sign}.${'0'.repeat(-point)}${digits}`;
  if (point >= n) return `${sign}${digits}${'0'.repeat(point - n)}`;
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}
