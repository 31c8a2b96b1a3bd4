/**
 * Decides the error class of an upstream failure (SPEC section 5). Pure.
 */
import type { ErrorClass } from './error-classes.ts';
import { StreamIdleError, UpstreamAbortedError } from './errors.ts';

/**
 * What the body of an error said, beyond its status: the prompt is too long, the quota is gone,
 * the model or deployment does not exist (`missing-model`, any 4xx), or a 404 is about something
 * the request itself names (`request-resource`: a file id, a stored response), not about the target.
 */
export type ErrorHint = 'context-window' | 'quota' | 'missing-model' | 'request-resource' | undefined;

const SERVER_ERROR_STATUSES = new Set([500, 502, 503, 504, 529]);

/** The class of an HTTP error status, refined by what the body said. */
export function classifyStatus(status: number, hint?: ErrorHint): ErrorClass {
  if (hint === 'quota') return 'auth';
  if (status === 429) return 'rate-limit';
  if (status === 401 || status === 403) return 'auth';
  if (status === 408) return 'timeout';
  if (SERVER_ERROR_STATUSES.has(status) || status >= 500) return 'server-error';
  if (hint === 'context-window') return 'context-window';
  // A 404 is the target's (a wrong baseURL, a renamed deployment, a retired model) unless it names
  // something of the request's; a 4xx that says the model does not exist is the target's too.
  if (status === 404) return hint === 'request-resource' ? 'bad-request' : 'not-found';
  if (hint === 'missing-model') return 'not-found';
  return 'bad-request';
}

const CONTEXT_WINDOW_CODES = new Set(['context_length_exceeded', 'string_above_max_length']);
/** error.type values that say it: llama.cpp's exceed_context_size_error. */
const CONTEXT_WINDOW_TYPES = new Set(['exceed_context_size_error', 'context_length_exceeded']);
/**
 * The wording of real providers (classify.test.ts has each): OpenAI/Azure/DeepSeek/vLLM "maximum
 * context length", Anthropic "prompt is too long" and "input length and `max_tokens` exceed context
 * limit", llama.cpp "exceeds the available context size", Ollama "exceeds the context length",
 * Gemini "exceeds the maximum number of tokens", vLLM "longer than the maximum model length", TGI
 * "`inputs` tokens + `max_new_tokens` must be <=".
 */
const CONTEXT_WINDOW_TEXT = new RegExp(
  [
    'context[ _-]?(length|window|size)',
    'maximum context',
    'prompt is too long',
    'too many tokens',
    'input length and `?max_tokens`? exceed',
    "exceeds? the (available |model'?s? )?(context|maximum)",
    'longer than the maximum model length',
    'tokens \\+ `?max_new_tokens`? must be',
  ].join('|'),
  'i',
);
const QUOTA_CODES = new Set(['insufficient_quota', 'billing_hard_limit_reached', 'quota_exceeded']);
const QUOTA_TEXT = /(insufficient[_ ]quota|exceeded your current quota|credit balance is too low|billing)/i;
/** OpenAI's model_not_found, Azure's DeploymentNotFound (any status). */
const MISSING_MODEL_CODES = new Set(['model_not_found', 'DeploymentNotFound']);
/**
 * A 404 about what the request names, not about the target: a client's param other than `model`
 * (OpenAI names it), or a file or stored object that does not exist. Failing over would not find
 * it elsewhere, and must not open a healthy target's circuit.
 */
const REQUEST_RESOURCE_TEXT = /\b(no such (file|vector store|response|assistant|thread|upload|batch)|file[ _-]?(id )?not found|file_[A-Za-z0-9]+|file-[A-Za-z0-9]+|previous_response_id)\b/i;

/** Reads a hint from an error body's code, message, type and param (any provider). */
export function hintFromError(
  code: string | null | undefined,
  message: string | null | undefined,
  type?: string | null | undefined,
  param?: string | null | undefined,
): ErrorHint {
  if (code && CONTEXT_WINDOW_CODES.has(code)) return 'context-window';
  if (type && CONTEXT_WINDOW_TYPES.has(type)) return 'context-window';
  if (code && QUOTA_CODES.has(code)) return 'quota';
  if (message && QUOTA_TEXT.test(message)) return 'quota';
  if (message && CONTEXT_WINDOW_TEXT.test(message)) return 'context-window';
  if (code && MISSING_MODEL_CODES.has(code)) return 'missing-model';
  if ((param && param !== 'model') || (message && REQUEST_RESOURCE_TEXT.test(message))) return 'request-resource';
  return undefined;
}

/** Node and undici error codes of a failed connection or a broken socket. */
const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EHOSTDOWN',
  'ETIMEDOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_DESTROYED',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
  'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH',
  'HPE_INVALID_CONSTANT',
  'HPE_INVALID_VERSION',
  'HPE_INVALID_STATUS',
  'HPE_INVALID_HEADER_TOKEN',
  'HPE_UNEXPECTED_CONTENT_LENGTH',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'CERT_HAS_EXPIRED',
]);
const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/**
 * The class of a thrown network error, or undefined when it is none. An
 * exchange we aborted (UpstreamAbortedError) is none: its caller knows why
 * (the signal's reason), and nothing in its causes is the network's.
 */
export function classifyNetworkError(err: unknown): 'timeout' | 'connection-error' | undefined {
  let e: unknown = err;
  for (let depth = 0; e && typeof e === 'object' && depth < 4; depth++) {
    if (e instanceof UpstreamAbortedError) return undefined;
    if (e instanceof StreamIdleError) return 'timeout';
    const code = (e as { code?: unknown }).code;
    // undici's parser error on bytes that are not HTTP has a name but no code.
    if ((e as { name?: unknown }).name === 'HTTPParserError') return 'connection-error';
    if (typeof code === 'string') {
      if (TIMEOUT_CODES.has(code)) return 'timeout';
      if (CONNECTION_CODES.has(code) || code.startsWith('HPE_') || code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS')) {
        return 'connection-error';
      }
    }
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}
