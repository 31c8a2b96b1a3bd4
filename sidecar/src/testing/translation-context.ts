/**
 * A TranslationContext for tests: ids numbered per prefix (resp_1, msg_1,
 * msg_2, …) and a fixed clock.
 */
import type { TranslationContext } from '../surfaces/types.ts';

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
