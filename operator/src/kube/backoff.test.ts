import { backoffDelay } from './backoff.ts';

describe('backoffDelay', () => {
  it('doubles from the base up to the cap', () => {
    const p = { baseMs: 200, maxMs: 1000 };
    expect([0, 1, 2, 3, 4, 50].map((n) => backoffDelay(n, p))).toEqual([0, 200, 400, 800, 1000, 1000]);
  });
});
