/**
 * One try of one request against one target, up to its commit point: a
 * whole JSON response, or a stream's first content-bearing chunk. Every
 * failure comes back as a classified Failure value, never as a throw, so
 * the failover loop decides what happens next.
 */
import type { ErrorClass } from './error-classes.ts';
import { formatMs, StreamTimer, tryTimeouts, type TimeoutCause } from './attempt-timeouts.ts';
import { classifyNetworkError } from './classify.ts';
import { CredentialsError } from './errors.ts';
import type { Route, Target, Timeouts } from './config/runtime-config.ts';
import type { EndpointKind, ProviderAdapter, ProviderError, Usage } from './providers/types.ts';
import { passthroughHeaders } from './passthrough-headers.ts';
import { retryAfterMs } from './retry-after.ts';
import { StreamSession } from './stream-session.ts';
import { refusedParam, shapeBody, shapes } from './request-params.ts';
import { sendUpstream } from './upstream.ts';

/** Why an attempt's signal was aborted. `hedged-out`: another try of its hedged request decided it. */
export type AbortCause = 'deadline' | 'client-closed' | 'hedged-out' | TimeoutCause;

export interface Failure {
  errorClass: ErrorClass;
  status: number | null;
  message: string;
  retryAfterMs?: number | undefined;
  providerError?: ProviderError | undefined;
  /** The request itself ended (deadline or client gone): no further tries. */
  cause?: 'deadline' | 'client-closed' | 'hedged-out' | undefined;
  /** A 400 refusing a parameter this try sent ("`temperature` is deprecated for this model"): request-params.ts. */
  refusedParam?: string | undefined;
  /** The adapter could not express the request for this target: nothing was sent, the target is skipped. */
  unsupported?: boolean | undefined;
}

export type AttemptResult =
  | { ok: true; kind: 'json'; status: number; body: string; usage?: Usage | undefined; headers?: Record<string, string> | undefined }
  | { ok: true; kind: 'stream'; session: StreamSession; prelude: string[]; finished: boolean; usage?: Usage | undefined; firstContentAt: number; headers?: Record<string, string> | undefined }
  | { ok: false; failure: Failure };

export interface AttemptInput {
  route: Route;
  target: Target;
  adapter: ProviderAdapter;
  kind: EndpointKind;
  body: Record<string, unknown>;
  stream: boolean;
  /** The request's signal: aborted with an AbortCause on the deadline or when the client leaves. */
  signal: AbortSignal;
  /** Milliseconds left of the total deadline. */
  remainingMs: number;
  /** Parameters the target is known to refuse: dropped from its body (TargetHealth.refusedParams). */
  refused?: ReadonlySet<string> | undefined;
  /** The client's request headers, for a native codec that passes some on (BuildOptions.clientHeaders). */
  clientHeaders?: Readonly<Record<string, string | string[] | undefined>> | undefined;
}

const ERROR_BODY_LIMIT = 64 * 1024;
const RESPONSE_LIMIT = 64 * 1024 * 1024;

export async function attempt(input: AttemptInput): Promise<AttemptResult> {
  const { route, target, adapter, kind, body, stream } = input;
  const t = route.timeouts;
  let upstream;
  try {
    upstream = adapter.buildRequest(kind, body, target, input.clientHeaders ? { stream, clientHeaders: input.clientHeaders } : { stream });
  } catch (err) {
    // The adapter cannot express this request for this provider (n > 1 on anthropic, say): this
    // target cannot serve it, which is no reason to answer the client's request with a 400 while
    // another target could. The failover loop skips it (attempt class `unsupported`).
    const message = err instanceof Error ? err.message : String(err);
    return {
      ok: false,
      failure: {
        errorClass: 'bad-request', status: 400, message, unsupported: true,
        providerError: { errorClass: 'bad-request', status: 400, message, type: 'invalid_request_error', code: (err as { code?: string }).code ?? null, param: (err as { param?: string | null }).param ?? null },
      },
    };
  }

  if (shapes(target, input.refused)) upstream.body = shapeBody(upstream.body, target, input.refused);
  if (adapter.prepare) {
    // Asynchronous last step (bedrock: credentials and the SigV4 signature of the final body).
    try {
      upstream = await adapter.prepare(upstream, target, input.signal);
    } catch (err) {
      if (input.signal.aborted) return abortedFailure(input.signal.reason, t);
      const message = err instanceof Error ? err.message : String(err);
      return fail(err instanceof CredentialsError ? 'auth' : 'server-error', null, message);
    }
  }

  if (input.signal.aborted) return abortedFailure(input.signal.reason, t);
  const timeouts = tryTimeouts(t, stream, input.remainingMs);
  // A stream's firstByte and firstContent timeouts run past the headers: a stream gets a signal of
  // its own (the request's, plus those) and one timer; a plain request uses the request's signal.
  const controller = stream ? new AbortController() : undefined;
  const onAbort = (): void => controller!.abort(input.signal.reason);
  if (controller) input.signal.addEventListener('abort', onAbort, { once: true });
  const signal = controller ? controller.signal : input.signal;
  let keepSession = false;
  let session: StreamSession | undefined;
  let streamTimer: StreamTimer | undefined;
  try {
    session = stream ? new StreamSession(adapter.createStreamDecoder(target, body)) : undefined;
    if (controller && session && timeouts.stream) {
      streamTimer = new StreamTimer(t, input.remainingMs, timeouts.stream, session, (cause) => controller.abort(cause satisfies AbortCause));
    }
    const res = await sendUpstream(upstream, {
      connectMs: t.connectMs,
      headersTimeoutMs: timeouts.headersMs,
      bodyTimeoutMs: timeouts.bodyMs,
      signal,
      limitFor: responseLimit,
      stream: session,
    });
    const status = res.statusCode;
    if (status < 200 || status >= 300) {
      const failed = providerFailure(adapter, status, res.text, res.headers);
      if (status === 400) failed.failure.refusedParam = refusedParam(failed.failure.providerError!, upstream.body, input.refused);
      return failed;
    }
    // A whole JSON body; for a stream request, an error the provider sent as 2xx or a provider that ignored `stream`.
    if (!res.streaming || !session) return jsonResult(adapter, kind, status, res.text, target, stream, body, res.headers);
    const prelude: string[] = [];
    let usage: Usage | undefined;
    for (;;) {
      const steps = await session.next();
      if (steps === null) return fail('connection-error', status, 'the provider ended the stream before any content');
      let committed = false;
      let finished = false;
      for (const step of steps) {
        if (step.error) {
          const e = step.error;
          return { ok: false, failure: { errorClass: e.errorClass, status: e.status, message: e.message, providerError: e } };
        }
        for (const s of step.out) prelude.push(s);
        if (step.usage) usage = step.usage;
        if (step.content) committed = true;
        if (step.finished) finished = true;
      }
      if (committed || finished) {
        keepSession = !finished;
        if (!finished) session.watchIdle(t.idleMs);
        return { ok: true, kind: 'stream', session, prelude, finished, usage, firstContentAt: performance.now(), headers: passthroughHeaders(res.headers) };
      }
    }
  } catch (err) {
    if (signal.aborted) return abortedFailure(signal.reason, t);
    const cls = classifyNetworkError(err);
    if (cls) return fail(cls, null, describeNetworkError(err, cls, t, stream));
    // Anything else (a parser limit, a bug) must not crash the request: treat it as a failed try.
    return fail('server-error', null, `upstream failure: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    streamTimer?.cancel();
    if (controller) input.signal.removeEventListener('abort', onAbort);
    if (!keepSession) session?.destroy();
  }
}

function responseLimit(status: number): number {
  return status >= 200 && status < 300 ? RESPONSE_LIMIT : ERROR_BODY_LIMIT;
}

function providerFailure(adapter: ProviderAdapter, status: number, text: string, headers: Record<string, string | string[] | undefined>): { ok: false; failure: Failure } {
  const perr = adapter.parseError(status, text, headers);
  return { ok: false, failure: { errorClass: perr.errorClass, status, message: perr.message, retryAfterMs: retryAfterMs(headers), providerError: perr } };
}

/** A whole 2xx JSON body; for a stream request it is a failure either way (an error, or no stream). */
function jsonResult(
  adapter: ProviderAdapter,
  kind: EndpointKind,
  status: number,
  text: string,
  target: Target,
  stream: boolean,
  body: Record<string, unknown>,
  headers: Record<string, string | string[] | undefined>,
): AttemptResult {
  const parsed = adapter.parseResponse(kind, status, text, target, body);
  if (!parsed.ok) return { ok: false, failure: { errorClass: parsed.error.errorClass, status: parsed.error.status, message: parsed.error.message, providerError: parsed.error } };
  if (stream) return fail('server-error', status, 'the provider answered a stream request with a JSON body');
  return { ok: true, kind: 'json', status, body: parsed.body, usage: parsed.usage, headers: passthroughHeaders(headers) };
}

function fail(errorClass: ErrorClass, status: number | null, message: string, providerError?: ProviderError): AttemptResult {
  return { ok: false, failure: { errorClass, status, message, providerError } };
}

function abortedFailure(reason: unknown, t: Timeouts): AttemptResult {
  if (reason === 'deadline') return { ok: false, failure: { errorClass: 'timeout', status: null, message: 'the total deadline ran out', cause: 'deadline' } };
  if (reason === 'client-closed') return { ok: false, failure: { errorClass: 'timeout', status: null, message: 'the client went away', cause: 'client-closed' } };
  if (reason === 'hedged-out') return { ok: false, failure: { errorClass: 'timeout', status: null, message: 'another try of this hedged request decided it', cause: 'hedged-out' } };
  if (reason === 'first-content') return fail('timeout', null, `no content before the firstContent timeout (${formatMs(t.firstContentMs)})`);
  return fail('timeout', null, `nothing from the provider before the firstByte timeout (${formatMs(t.firstByteMs)})`);
}

/** What a network error says, naming the timeout that fired. */
function describeNetworkError(err: unknown, cls: 'timeout' | 'connection-error', t: Timeouts, stream: boolean): string {
  const code = (err as { code?: string }).code;
  if (cls === 'timeout') {
    if (code === 'UND_ERR_CONNECT_TIMEOUT') return `no connection before the connect timeout (${formatMs(t.connectMs)})`;
    if (code === 'UND_ERR_HEADERS_TIMEOUT') {
      return stream
        ? `no response headers before the firstByte timeout (${formatMs(t.firstByteMs)})`
        : `no answer before the firstContent timeout (${formatMs(t.firstContentMs)})`;
    }
    if (code === 'UND_ERR_BODY_TIMEOUT') {
      // A stream before its commit point: undici's body timer is the firstContent bound (attempt-timeouts.ts).
      return stream
        ? `no content before the firstContent timeout (${formatMs(t.firstContentMs)})`
        : `the response stalled longer than the idle timeout (${formatMs(t.idleMs)})`;
    }
  }
  let e: unknown = err;
  while (e && typeof e === 'object' && !(e as { code?: string }).code && (e as { cause?: unknown }).cause) e = (e as { cause?: unknown }).cause;
  const c = (e as { code?: string }).code;
  return `connection error${c ? ` (${c})` : ''}`;
}
