/** TranslationContexts for unit tests of the surfaces: predictable ids and a fixed clock. */
import type { TranslationContext } from '../surfaces/types.ts';

/** Ids counted across prefixes (msg_0001, msg_0002, …). */
export function testContext(): TranslationContext {
  let n = 0;
  return { newId: (prefix) => `${prefix}_${String(++n).padStart(4, '0')}`, nowSeconds: () => 1_700_000_000 };
}

/** Ids numbered per prefix (resp_1, msg_1, msg_2, …). */
export function fixedContext(nowSeconds = 1_700_000_000): TranslationContext {
  const counters = new Map<string, number>();
  return {
    newId: (prefix) => {
      const n = (counters.get(prefix) ?? 0) + 1;
      counters.set(prefix, n);
      return `${prefix}_${n}`;
    },
    nowSeconds: () => nowSeconds,
  };
}
