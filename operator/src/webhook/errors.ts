/**
 * The webhook's errors: each extends LlmrouteError (common/errors.ts) with a
 * code of WebhookErrorCode. Messages name files, objects and policies, never
 * certificate or key contents.
 */
import { LlmrouteError } from '../../../common/errors.ts';

export type WebhookErrorCode = 'webhook_certificate';

/** A certificate cannot be made as asked: a name that is not an IP address, a CA key of another kind. */
export class CertificateError extends LlmrouteError<'webhook_certificate'> {
  constructor(message: string, options?: ErrorOptions) {
    super('webhook_certificate', message, options);
  }
}
