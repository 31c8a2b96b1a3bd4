/** A TranslationContext with counted ids and a fixed clock, for unit tests of the surfaces. */
import type { TranslationContext } from '../surfaces/types.ts';

export function testContext(): TranslationContext {
  let n = 0;
  return { newId: (prefix) => `${prefix}_${String(++n).padStart(4, '0')}`, nowSeconds: () => 1_700_000_000 };
}
