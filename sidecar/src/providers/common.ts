/**
 * Small helpers the provider adapters share: JSON shape checks, error
 * building (OpenAI's error shape, class from classify.ts) and redaction.
 */
import { classifyStatus, hintFromError } from '../classify.ts';
import type { ProviderError, StreamStep, Usage } from './types.ts';

export type Json = Record<string, unknown>;

export function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** A finite non-negative number, else 0 (token counts). */
export function count(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : 0;
}

export function trimSlashes(url: string): string {
  let end = url.length;
  while (end > 0 && url.charCodeAt(end - 1) === 47 /* / */) end--;
  return end === url.length ? url : url.slice(0, end);
}

export const MAX_ERROR_TEXT = 500;
const MAX_ERROR_MESSAGE = 2000;

export function truncate(text: string, max = MAX_ERROR_TEXT): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/**
 * Defence in depth: a provider (or a proxy in front of it) may echo a key
 * back in an error text. Anything shaped like a bearer token or an
 * sk-/sk-ant- style key is replaced before the text is kept anywhere.
 */
const KEY_LIKE = /\b(?:sk-[A-Za-z0-9_*-]{8,}|Bearer\s+[^\s"',;]+)/g;

export function redact(text: string): string {
  return text.replace(KEY_LIKE, '[redacted]');
}

/** OpenAI's error.type for a status, when the body did not say. */
export function typeForStatus(status: number): string {
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 429) return 'rate_limit_error';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}

/** Builds a ProviderError; the class comes from the status refined by the code, message, type and param. */
export function providerError(
  status: number,
  message: string,
  type: string,
  code: string | null,
  param: string | null = null,
): ProviderError {
  return {
    errorClass: classifyStatus(status, hintFromError(code, message, type, param)),
    status,
    message: redact(truncate(message, MAX_ERROR_MESSAGE)),
    type,
    code,
    param,
  };
}

/** The provider answered 2xx with a body that is not JSON (or not an object). */
export function invalidBodyError(what: string): ProviderError {
  return providerError(502, `the provider sent an invalid ${what} (not a JSON object)`, 'server_error', 'invalid_provider_response');
}

/** A stream event whose data cannot be read: truncated or garbage. */
export function invalidStreamEventError(): ProviderError {
  return providerError(502, 'the provider sent an unreadable stream event', 'server_error', 'invalid_provider_response');
}

/** Parses JSON, or returns undefined when it is not valid JSON. */
export function tryParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export function emptyStep<C = string>(): StreamStep<C> {
  return { out: [], content: false, finished: false };
}

export function step(out: string[], content: boolean, finished = false, usage?: Usage): StreamStep {
  return usage ? { out, content, finished, usage } : { out, content, finished };
}

export function errorStep<C = string>(error: ProviderError): StreamStep<C> {
  return { out: [], content: false, finished: false, error };
}

/** `p`, or the signal's reason once it aborts (the work behind `p` goes on, its result unused). */
export function rejectOnAbort<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
