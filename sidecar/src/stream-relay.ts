/**
 * Sends a committed stream to the client as OpenAI SSE. Pulls from the
 * upstream only as fast as the client takes it (backpressure), and ends a
 * stream that breaks after the commit point with an explicit
 * `data: {"error": ...}` event (http-errors.ts writes it) and no [DONE]:
 * never as a clean end.
 */
import type { ServerResponse } from 'node:http';
import type { StreamSession } from './stream-session.ts';
import type { ErrorClass } from './error-classes.ts';
import { classifyNetworkError } from './classify.ts';
import { StreamFailedError, StreamIdleError, UpstreamRejectedError, type SidecarError } from './errors.ts';
import { sseErrorEvent, streamErrorFields } from './http-errors.ts';
import type { FramedStream } from './surfaces/types.ts';
import type { ProviderError, Usage } from './providers/types.ts';

/** What broke a committed stream. */
export interface StreamFailure {
  errorClass: ErrorClass;
  message: string;
}

export interface RelayResult {
  /** Undefined when the stream ended cleanly. */
  failure?: StreamFailure | undefined;
  usage?: Usage | undefined;
  clientGone: boolean;
}

const DONE = 'data: [DONE]\n\n';

export async function relayStream(
  res: ServerResponse,
  session: StreamSession,
  prelude: string[],
  finished: boolean,
  usage: Usage | undefined,
  signal: AbortSignal,
): Promise<RelayResult> {
  const framed = session.framed;
  const end = framed ? framed.end : DONE;
  let out = framed ? prelude.join('') : '';
  if (!framed) for (const s of prelude) out += `data: ${s}\n\n`;
  if (finished) {
    res.end(out + end);
    return { usage, clientGone: false };
  }
  // The client leaving (or the deadline) while the relay waits on the upstream: closing the
  // session wakes that wait and closes the upstream exchange at once.
  const onAbort = (): void => session.destroy();
  signal.addEventListener('abort', onAbort, { once: true });
  if (signal.aborted) onAbort();
  let ok = res.write(out);
  try {
    for (;;) {
      if (!ok) {
        await drained(res, signal);
        if (signal.aborted) return aborted(res, framed, usage, signal);
      }
      const steps = await session.next();
      if (signal.aborted) return aborted(res, framed, usage, signal);
      if (steps === null) return { usage, clientGone: false, failure: endWithError(res, framed, 'connection-error', 'the provider ended the stream early') };
      out = '';
      let done = false;
      for (const step of steps) {
        if (framed) for (const s of step.out) out += s;
        else for (const s of step.out) out += `data: ${s}\n\n`;
        if (step.usage) usage = step.usage;
        if (step.error) {
          if (out) res.write(out);
          return { usage, clientGone: false, failure: endWithProviderError(res, framed, step.error) };
        }
        if (step.finished) done = true;
      }
      if (done) {
        res.end(out + end);
        return { usage, clientGone: false };
      }
      if (out) ok = res.write(out);
    }
  } catch (err) {
    if (signal.aborted && signal.reason === 'client-closed') return { usage, clientGone: true };
    if (signal.aborted && signal.reason === 'deadline') return { usage, clientGone: false, failure: endWithError(res, framed, 'timeout', 'the total deadline ran out') };
    const cls = classifyNetworkError(err) ?? 'server-error';
    const code = (err as { code?: string }).code;
    const message =
      err instanceof StreamIdleError
        ? err.message
        : code === 'UND_ERR_BODY_TIMEOUT'
          ? 'the stream stalled longer than the idle timeout'
          : `the stream broke${code ? ` (${code})` : ''}`;
    return { usage, clientGone: false, failure: endWithError(res, framed, cls, message) };
  } finally {
    signal.removeEventListener('abort', onAbort);
    session.destroy();
  }
}

/** The request's signal fired: the client is gone (nothing to write), or the deadline ran out (the error event). */
function aborted(res: ServerResponse, framed: FramedStream | undefined, usage: Usage | undefined, signal: AbortSignal): RelayResult {
  if (signal.reason === 'deadline') return { usage, clientGone: false, failure: endWithError(res, framed, 'timeout', 'the total deadline ran out') };
  return { usage, clientGone: signal.reason === 'client-closed' };
}

/**
 * Ends the response with the error event (unless the client is gone), and says what broke: Chat's
 * `data: {"error": ...}`, or a framed stream's own (Responses, Messages).
 */
function endWith(res: ServerResponse, framed: FramedStream | undefined, err: SidecarError, errorClass: ErrorClass, status: number, message: string): StreamFailure {
  if (!res.writableEnded && !res.destroyed) res.end(framed ? framed.error(streamErrorFields(err, errorClass, status)) : sseErrorEvent(err));
  return { errorClass, message };
}

function endWithError(res: ServerResponse, framed: FramedStream | undefined, errorClass: ErrorClass, message: string): StreamFailure {
  return endWith(res, framed, new StreamFailedError(errorClass, message), errorClass, errorClass === 'timeout' ? 504 : 502, message);
}

function endWithProviderError(res: ServerResponse, framed: FramedStream | undefined, e: ProviderError): StreamFailure {
  return endWith(res, framed, new UpstreamRejectedError(e.status, e.type, e.code, e.message, e.param ?? null, []), e.errorClass, e.status, e.message);
}

/** Resolves once the client takes more, leaves, or the request is aborted; at once when one of those already happened. */
function drained(res: ServerResponse, signal: AbortSignal): Promise<void> {
  if (signal.aborted || res.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    res.once('drain', done);
    res.once('close', done);
    signal.addEventListener('abort', done, { once: true });
  });
}
