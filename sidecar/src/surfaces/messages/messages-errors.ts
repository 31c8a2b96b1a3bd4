/**
 * The sidecar's errors in Anthropic's shape, for clients that spoke the
 * Messages API: `{"type":"error","error":{"type":…,"message":…}}` with
 * Anthropic's error types (https://docs.claude.com/en/api/errors).
 *
 * The status stays the sidecar's (error-table.ts decides it); the type is
 * Anthropic's for that status, refined by the error's code where the code
 * says more than the status (an overloaded provider, a timeout, a billing
 * error passed on from an Anthropic target). llmroute's own fields (`code`,
 * `param`, `attempts`) ride inside `error`: the Anthropic SDKs keep the
 * body as it came (Python `APIStatusError.body`, TS `APIError.error`) and
 * read only `error.message` and `error.type`, so extra fields there are
 * harmless and visible to whoever looks.
 */
import type { Json } from '../../providers/common.ts';
import { isObject, str } from '../../providers/common.ts';

/** Anthropic's error type for an HTTP status. */
export function anthropicTypeForStatus(status: number): string {
  switch (status) {
    case 400:
      return 'invalid_request_error';
    case 401:
      return 'authentication_error';
    case 402:
      return 'billing_error';
    case 403:
      return 'permission_error';
    case 404:
      return 'not_found_error';
    case 413:
      return 'request_too_large';
    case 429:
      return 'rate_limit_error';
    case 504:
      return 'timeout_error';
    case 503:
    case 529:
      return 'overloaded_error';
    default:
      return status >= 500 ? 'api_error' : 'invalid_request_error';
  }
}

/**
 * Codes that name an Anthropic type more exactly than the status: the codes
 * anthropic-response.ts gives Anthropic's own errors (so a provider's
 * overloaded_error comes back as itself), and OpenAI's for the same things.
 */
const TYPE_BY_CODE: Readonly<Record<string, string>> = {
  overloaded: 'overloaded_error',
  timeout: 'timeout_error',
  deadline_exceeded: 'timeout_error',
  insufficient_quota: 'billing_error',
  request_too_large: 'request_too_large',
  rate_limit_exceeded: 'rate_limit_error',
  rate_limited: 'rate_limit_error',
  invalid_api_key: 'authentication_error',
};

/** Anthropic's error type for a status and the error's code (or the OpenAI-side type). */
export function anthropicErrorType(status: number, code: string | null | undefined, type?: string): string {
  return (code ? TYPE_BY_CODE[code] : undefined) ?? (type === 'insufficient_quota' ? 'billing_error' : undefined) ?? anthropicTypeForStatus(status);
}

/** An error response as http-errors.ts makes it. */
export interface OpenAIErrorResponse {
  status: number;
  headers: Record<string, string>;
  body: { error: Record<string, unknown> };
}

export interface MessagesErrorResponse {
  status: number;
  headers: Record<string, string>;
  body: { type: 'error'; error: Json };
}

/** The sidecar's error response, in Anthropic's shape. Status and headers (retry-after, x-should-retry) are kept. */
export function toMessagesError(res: OpenAIErrorResponse): MessagesErrorResponse {
  const e = isObject(res.body.error) ? res.body.error : {};
  const code = str(e.code) ?? null;
  const error: Json = {
    type: anthropicErrorType(res.status, code, str(e.type)),
    message: str(e.message) ?? `error ${res.status}`,
  };
  if (code !== null) error.code = code;
  const param = str(e.param);
  if (param) error.param = param;
  if (Array.isArray(e.attempts)) error.attempts = e.attempts;
  return { status: res.status, headers: res.headers, body: { type: 'error', error } };
}
