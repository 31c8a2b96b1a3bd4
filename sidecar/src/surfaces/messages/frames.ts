/**
 * The Messages API's SSE frames: `event: <type>\ndata: <json>\n\n`, and the
 * `error` event that ends a stream broken after its commit point. The
 * Anthropic SDKs raise on an `error` event (Python: `_streaming.py` turns it
 * into an APIStatusError; TS: `Stream` throws an APIError), so a broken
 * stream never reads as a clean end.
 */
import type { StreamErrorFields } from '../types.ts';
import { anthropicErrorType } from './messages-errors.ts';

/** One frame; `data` is JSON text, sent as it is. */
export function frame(event: string, data: string): string {
  return `event: ${event}\ndata: ${data}\n\n`;
}

/** The `error` event for a stream that broke after its commit point. */
export function errorFrame(e: StreamErrorFields): string {
  const type = anthropicErrorType(e.status, e.code, e.type);
  return frame('error', JSON.stringify({ type: 'error', error: { type, message: e.message } }));
}
