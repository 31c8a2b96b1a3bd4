import { backoffDelayMs } from './backoff.ts';

describe('backoffDelayMs (exponential, full jitter)', () => {
  it('grows the ceiling by 2^n up to max', () => {
    const top = () => 0.999999;
    expect(backoffDelayMs(0, 200, 2000, top)).toBe(199);
    expect(backoffDelayMs(1, 200, 2000, top)).toBe(399);
    expect(backoffDelayMs(3, 200, 2000, top)).toBe(1599);
    expect(backoffDelayMs(4, 200, 2000, top)).toBe(1999);
    expect(backoffDelayMs(60, 200, 2000, top)).toBe(1999);
  });

  it('is uniformly jittered down to zero', () => {
    expect(backoffDelayMs(5, 200, 2000, () => 0)).toBe(0);
    expect(backoffDelayMs(2, 200, 2000, () => 0.5)).toBe(400);
  });
});
