/**
 * Exponential backoff: base · 2^(failures-1), capped. Pure.
 */
export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
}

export function backoffDelay(failures: number, p: BackoffPolicy): number {
  if (failures <= 0) return 0;
  const exp = Math.min(failures - 1, 30);
  return Math.min(p.maxMs, p.baseMs * 2 ** exp);
}
