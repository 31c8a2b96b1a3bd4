/**
 * The webhook's errors: each extends LlmrouteError (common/errors.ts) with a
 * code of WebhookErrorCode. Messages name files, objects and policies, never
 * certificate or key contents.
 */
import { LlmrouteError } from '../../../common/errors.ts';

export type WebhookErrorCode =
  | 'webhook_rotation_policy'
  | 'webhook_certificate'
  | 'webhook_cert_dir'
  | 'webhook_tls_conflict'
  | 'webhook_tls_api'
  | 'webhook_start';

/** A RotationPolicy that could never be satisfied (renewal after expiry, no names). */
export class RotationPolicyError extends LlmrouteError<'webhook_rotation_policy'> {
  constructor(message: string) {
    super('webhook_rotation_policy', message);
  }
}

/** A certificate cannot be made as asked: a name that is not an IP address, a CA key of another kind. */
export class CertificateError extends LlmrouteError<'webhook_certificate'> {
  constructor(message: string, options?: ErrorOptions) {
    super('webhook_certificate', message, options);
  }
}

/** The certificate folder (cert-manager mode) holds no usable pair. */
export class CertDirError extends LlmrouteError<'webhook_cert_dir'> {
  constructor(message: string) {
    super('webhook_cert_dir', message);
  }
}

/** The Secret or the webhook configuration could not be read or written (conflict: changed concurrently). */
export class WebhookTlsError extends LlmrouteError<'webhook_tls_conflict' | 'webhook_tls_api'> {}

/** startWebhook could not get a serving certificate. */
export class WebhookStartError extends LlmrouteError<'webhook_start'> {
  constructor(message: string, options?: ErrorOptions) {
    super('webhook_start', message, options);
  }
}
