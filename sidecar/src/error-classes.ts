/**
 * The classes an upstream failure falls into (SPEC section 5). They decide
 * whether a try is repeated on the same target, whether the request moves on
 * to the next target, and what the breaker does.
 */
export const ERROR_CLASSES = [
  'rate-limit',
  'server-error',
  'timeout',
  'connection-error',
  'auth',
  'context-window',
  'bad-request',
] as const;

export type ErrorClass = (typeof ERROR_CLASSES)[number];

/** The classes `fallbackOn` may name. `auth` always falls back; `bad-request` never does. */
export const FALLBACK_CLASSES = ['rate-limit', 'server-error', 'timeout', 'connection-error', 'auth', 'context-window'] as const;
export type FallbackClass = (typeof FALLBACK_CLASSES)[number];

export const DEFAULT_FALLBACK_ON: readonly FallbackClass[] = ['rate-limit', 'server-error', 'timeout', 'connection-error'];
