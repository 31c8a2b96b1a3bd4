/**
 * The classes an upstream failure falls into (SPEC section 5). They decide
 * whether a try is repeated on the same target, whether the request moves on
 * to the next target, and what the breaker does.
 */
export { ERROR_CLASSES, type ErrorClass, type FallbackOn } from '../../api/v1alpha1/enums.ts';
