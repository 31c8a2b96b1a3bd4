import { describe, expect, it } from '@jest/globals';
import { parseQuantity } from './quantity.ts';

describe('parseQuantity', () => {
  it.each([
    ['50m', 0.05],
    ['1', 1],
    ['0.5', 0.5],
    ['.5', 0.5],
    ['64Mi', 64 * 2 ** 20],
    ['1Gi', 2 ** 30],
    ['1G', 1e9],
    ['128k', 128e3],
    ['1e3', 1000],
    ['2E', 2e18],
  ])('%s = %d', (text, value) => {
    expect(parseQuantity(text)! / value).toBeCloseTo(1);
  });

  it.each(['', 'lots', '-1Mi', '1 Mi', '1mi', '1MiB', 'Mi', '1.2.3'])('%j is not a quantity', (text) => {
    expect(parseQuantity(text)).toBeUndefined();
  });
});
