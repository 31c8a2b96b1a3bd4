/**
 * Why a pod cannot be injected. The webhook turns it into a denial whose
 * message lists every problem; the inject CLI prints it and exits 1.
 */
import { OperatorError } from '../errors.ts';

export type InjectionErrorCode =
  /** An llmroute.dev/* annotation has a value the injector refuses. */
  | 'inject_invalid_annotation'
  /** The pod already has something the sidecar needs (a volume name, a port). */
  | 'inject_conflict'
  /** The object is not a pod the injector can read (no spec.containers). */
  | 'inject_invalid_pod';

export class InjectionError extends OperatorError {
  readonly problems: readonly string[];
  constructor(code: InjectionErrorCode, problems: readonly string[]) {
    super(code, `llmroute cannot inject this pod: ${problems.join('; ')}`);
    this.name = 'InjectionError';
    this.problems = problems;
  }
}
