/**
 * How a Responses stream broken after its commit point ends: an `error`
 * event (the API's ResponseErrorEvent: top-level `code`, `message`, `param`),
 * then `response.failed` carrying the response with `status: 'failed'` and
 * `error {code, message}`, the terminal event of a failed response.
 *
 * What the SDKs make of it (read in their sources): iterating
 * `create({stream: true})` raises in neither openai-node nor openai-python
 * (their `Stream` raises only on a data object with a top-level `error` key,
 * which neither event has): both events reach the caller. openai-node's
 * `responses.stream()` re-emits each event under its type, so the `error`
 * event is emitted as the stream's 'error': `done()`/`finalResponse()` reject
 * with it (the event object: code, message, param). openai-python's
 * `get_final_response()` raises "Didn't receive a `response.completed`
 * event.". Either way the end is never mistaken for a clean one.
 */
import type { Json } from '../../providers/common.ts';
import type { StreamErrorFields } from '../types.ts';

/** `response.error.code` takes a closed set of values (ResponseError in the SDK): a rate limit, else a server error. */
export function failedCode(e: StreamErrorFields): 'rate_limit_exceeded' | 'server_error' {
  return e.errorClass === 'rate-limit' || e.status === 429 ? 'rate_limit_exceeded' : 'server_error';
}

/**
 * The two frames, numbered from `sequenceNumber`. `response` is the response
 * as it stood (its fields are kept; status and error are set); undefined
 * sends the `error` event alone (no response was ever announced).
 */
export function streamErrorFrames(e: StreamErrorFields, sequenceNumber: number, response: Json | undefined): string {
  const error = { type: 'error', sequence_number: sequenceNumber, code: e.code ?? e.type, message: e.message, param: e.param };
  let out = `event: error\ndata: ${JSON.stringify(error)}\n\n`;
  if (response) {
    const failed = { ...response, status: 'failed', error: { code: failedCode(e), message: e.message } };
    out += `event: response.failed\ndata: ${JSON.stringify({ type: 'response.failed', sequence_number: sequenceNumber + 1, response: failed })}\n\n`;
  }
  return out;
}
