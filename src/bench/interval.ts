// Distribution-free statistics of repeated measurements: the median, an order-statistic interval
// for it, and a split of the values into two levels when they sit in two clusters.

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** P(X <= k) for X ~ Binomial(n, 1/2). */
function binomialCdfHalf(n: number, k: number): number {
  let term = 0.5 ** n; // C(n,0) / 2^n
  let sum = term;
  for (let i = 1; i <= k; i++) {
    term = (term * (n - i + 1)) / i;
    sum += term;
  }
  return sum;
}

export interface MedianInterval {
  median: number;
  low: number;
  high: number;
  /** the interval's coverage of the true median (from the binomial law; needs no distribution) */
  confidence: number;
}

/**
 * The median of `values` and the widest-coverage-first order-statistic interval [x(k), x(n-k+1)]
 * whose coverage is at least `level` (the sign-test interval). With too few values for that
 * level, the interval is [min, max] with its own, lower, coverage.
 */
export function medianInterval(values: readonly number[], level = 0.95): MedianInterval {
  const n = values.length;
  if (n === 0) return { median: Number.NaN, low: Number.NaN, high: Number.NaN, confidence: 0 };
  const s = [...values].sort((a, b) => a - b);
  // k = 1 is [min, max]; take the largest k whose coverage 1 - 2 P(X <= k-1) still reaches level.
  let k = 1;
  while (k + 1 <= (n + 1) / 2 && 1 - 2 * binomialCdfHalf(n, k) >= level) k++;
  const confidence = 1 - 2 * binomialCdfHalf(n, k - 1);
  return { median: median(s), low: s[k - 1]!, high: s[n - k]!, confidence: Math.round(confidence * 1000) / 1000 };
}

export interface Level {
  /** median of the values at this level */
  value: number;
  count: number;
}

/**
 * One level, or two when the sorted values have a gap wider than `minGap` (relative to the overall
 * median) with at least two values on each side: e.g. a rate that settles into one of two states.
 */
export function levelsOf(values: readonly number[], minGap = 0.1): Level[] {
  const s = [...values].sort((a, b) => a - b);
  const mid = median(s);
  if (s.length < 4 || !(mid > 0)) return s.length ? [{ value: mid, count: s.length }] : [];
  let best = -1;
  let bestGap = 0;
  for (let i = 2; i <= s.length - 2; i++) {
    const gap = (s[i]! - s[i - 1]!) / mid;
    if (gap > bestGap) {
      bestGap = gap;
      best = i;
    }
  }
  if (best < 0 || bestGap < minGap) return [{ value: mid, count: s.length }];
  const lowPart = s.slice(0, best);
  const highPart = s.slice(best);
  return [
    { value: median(lowPart), count: lowPart.length },
    { value: median(highPart), count: highPart.length },
  ];
}
