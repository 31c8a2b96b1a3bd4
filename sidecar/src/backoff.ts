/**
 * Exponential backoff with full jitter: the n-th retry (n from 0) waits a
 * uniformly random time in [0, min(max, initial * 2^n)). Pure given `random`.
 */
export function backoffDelayMs(retry: number, initialMs: number, maxMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, initialMs * 2 ** Math.min(retry, 30));
  return Math.floor(random() * ceiling);
}
