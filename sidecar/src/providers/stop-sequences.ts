/**
 * Stop sequences applied to generated text by the sidecar itself, for those
 * a provider refuses (Anthropic: whitespace-only ones). Whole texts are cut
 * at the first occurrence; streamed text goes through a StopCutter, which
 * holds back a tail that could be the start of a sequence until the next
 * piece tells.
 */

/** The index of the earliest occurrence of any of `stops` in `text`, or -1. */
export function firstStop(text: string, stops: readonly string[]): number {
  let cut = -1;
  for (const stop of stops) {
    const i = text.indexOf(stop);
    if (i !== -1 && (cut === -1 || i < cut)) cut = i;
  }
  return cut;
}

export class StopCutter {
  readonly #stops: readonly string[];
  #held = '';
  /** A stop sequence was found: the text ended before it, and nothing more is to be sent. */
  stopped = false;

  constructor(stops: readonly string[]) {
    this.#stops = stops;
  }

  /** The text that can go out now (before a stop sequence, when one is found). */
  push(text: string): string {
    if (this.stopped) return '';
    const s = this.#held + text;
    const cut = firstStop(s, this.#stops);
    if (cut !== -1) {
      this.stopped = true;
      this.#held = '';
      return s.slice(0, cut);
    }
    // Hold back the longest tail of s that begins some stop sequence.
    let hold = 0;
    for (const stop of this.#stops) {
      for (let k = Math.min(stop.length - 1, s.length); k > hold; k--) {
        if (s.endsWith(stop.slice(0, k))) {
          hold = k;
          break;
        }
      }
    }
    this.#held = hold ? s.slice(s.length - hold) : '';
    return hold ? s.slice(0, s.length - hold) : s;
  }

  /** The text held back (the output goes on with something else, or ends). */
  flush(): string {
    const h = this.#held;
    this.#held = '';
    return h;
  }
}
