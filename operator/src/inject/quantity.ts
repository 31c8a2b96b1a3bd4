/**
 * Kubernetes resource quantities ("50m", "64Mi", "1.5G", "1e3"): the
 * grammar the API server accepts for a non-negative quantity, and its value
 * as a plain number (cores or bytes). Pure.
 */
const QUANTITY = /^(\d+(?:\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?\d+)?$/;

const MULTIPLIER: Record<string, number> = {
  '': 1,
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** The quantity's value, or undefined when the text is not a valid non-negative quantity. */
export function parseQuantity(text: string): number | undefined {
  const m = QUANTITY.exec(text);
  if (!m) return undefined;
  const number = Number(m[1]);
  const suffix = m[2] ?? '';
  const multiplier = /^[eE][+-]?\d+$/.test(suffix) ? 10 ** Number(suffix.slice(1)) : MULTIPLIER[suffix];
  if (multiplier === undefined || !Number.isFinite(number)) return undefined;
  return number * multiplier;
}
