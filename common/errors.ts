/**
 * The one error base of the repository. Every error that llmroute throws on
 * purpose extends it, so callers and tests can key on a stable `code` (never
 * on a message), and each component narrows `code` to its own union:
 * `SidecarErrorCode` (sidecar/src/errors.ts), `OperatorErrorCode`
 * (operator/src/errors.ts), `CommonErrorCode` here.
 *
 * Messages are built from our own words and names (routes, targets,
 * namespaces, Secrets, keys), never from Secret values or request headers.
 */
export class LlmrouteError<Code extends string = string> extends Error {
  readonly code: Code;
  constructor(code: Code, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Codes of the errors defined in common/. */
export type CommonErrorCode = 'usage';

/** Is `err` one of ours with this code? */
export function hasCode<C extends string>(err: unknown, code: C): err is LlmrouteError<C> {
  return err instanceof LlmrouteError && err.code === code;
}
