/**
 * The edge: writes typed errors as a client reads them, by their row in
 * error-table.ts: an HTTP error response (status, headers and an
 * OpenAI-shaped body, {"error": {"message", "type", "code", "param"}}), or
 * the SSE error event that ends a stream broken after its commit point.
 */
import { errorRow, NOT_OURS, type ErrorRow } from './error-table.ts';
import type { ErrorClass } from './error-classes.ts';
import type { SidecarError } from './errors.ts';
import type { StreamErrorFields } from './surfaces/types.ts';

export interface ErrorResponse {
  status: number;
  headers: Record<string, string>;
  body: { error: Record<string, unknown> };
}

export function errorResponse(err: unknown): ErrorResponse {
  const row = errorRow(err);
  if (!row) return { status: NOT_OURS.status, headers: {}, body: { error: { message: NOT_OURS.message, type: NOT_OURS.type, code: NOT_OURS.code, param: null } } };
  const e = err as SidecarError;
  const error: Record<string, unknown> = errorFields(row, e);
  if (row.attempts) error.attempts = row.attempts(e);
  const headers = row.headers ? row.headers(e) : {};
  const retry = typeof row.retry === 'function' ? row.retry(e) : row.retry;
  if (retry !== undefined) headers['x-should-retry'] = retry ? 'true' : 'false';
  return { status: typeof row.status === 'number' ? row.status : row.status(e), headers, body: { error } };
}

/** `data: {"error": ...}`, the last event of a stream that broke after its commit point. */
export function sseErrorEvent(err: SidecarError): string {
  return `data: ${JSON.stringify({ error: errorFields(errorRow(err)!, err) })}\n\n`;
}

/** The fields of the event that ends a broken stream, for a framed stream to write in its own protocol. */
export function streamErrorFields(err: SidecarError, errorClass: ErrorClass, status: number): StreamErrorFields {
  return { ...errorFields(errorRow(err)!, err), errorClass, status };
}

function errorFields(row: ErrorRow<SidecarError>, e: SidecarError): { message: string; type: string; code: string | null; param: string | null } {
  return {
    message: e.message,
    type: typeof row.type === 'string' ? row.type : row.type(e),
    code: row.code ? row.code(e) : e.code,
    param: row.param ? row.param(e) : null,
  };
}
