/**
 * One try of one request against one target, up to its commit point: a
 * whole JSON response, or a stream's first content-bearing chunk (with a
 * route `commit` window, the end of that window: commit-window.ts). Every
 * failure comes back as a classified Failure value, never as a throw, so
 * the failover loop decides what happens next.
 */
import type { ErrorClass } from './error-classes.ts';
import { formatMs, StreamTimer, tryTimeouts, type TimeoutCause } from './attempt-timeouts.ts';
import { classifyNetworkError } from './classify.ts';
import { holdFrames, judgeWindow, type WindowState } from './commit-window.ts';
import { CredentialsError, StreamIdleError } from './errors.ts';
import type { CommitPolicy, Route, Target, Timeouts } from './config/runtime-config.ts';
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
  /**
   * The try failed inside its commit window (after its first content, before the commit): without
   * the window the client would have had a broken stream. Why: `stall` (the idle timeout),
   * `slow-stream` (below commit.minTokensPerSecond), or the error class of what broke it.
   */
  inWindow?: CommitWindowReason | undefined;
}

/** Why a try failed inside its commit window (the `reason` label of llmroute_commit_window_fallbacks_total). */
export type CommitWindowReason = 'stall' | 'slow-stream' | ErrorClass;

export type AttemptResult =
  | { ok: true; kind: 'json'; status: number; body: string; usage?: Usage | undefined; headers?: Record<string, string> | undefined }
  | {
      ok: true;
      kind: 'stream';
      session: StreamSession;
      prelude: string[];
      finished: boolean;
      usage?: Usage | undefined;
      /** When the client gets its first content: the commit (performance.now()). */
      firstContentAt: number;
      /** With a commit window: how long the first content was held before the commit (ms). */
      heldMs?: number | undefined;
      headers?: Record<string, string> | undefined;
    }
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
        let heldMs: number | undefined;
        if (route.commit && !finished) {
          // The first content came: firstContent is met, and the window holds what follows.
          streamTimer?.cancel();
          const held = await holdWindow(session, route.commit, t, prelude, usage, signal);
          if (!held.ok) return held;
          ({ finished, usage, heldMs } = held);
        }
        keepSession = !finished;
        if (!finished) session.watchIdle(t.idleMs);
        return { ok: true, kind: 'stream', session, prelude, finished, usage, firstContentAt: performance.now(), heldMs, headers: passthroughHeaders(res.headers) };
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

type Held = { ok: true; finished: boolean; usage: Usage | undefined; heldMs: number };

/**
 * The commit window (commit-window.ts): reads on from the first content chunk, adding every frame
 * to `prelude` (sent unchanged on commit), until judgeWindow commits or fails the stream. The
 * idle timeout bounds its gaps (a stall is a failure before the commit point); one timer wakes the
 * read at afterMs. Failures come back marked `inWindow`.
 */
async function holdWindow(
  session: StreamSession,
  p: CommitPolicy,
  t: Timeouts,
  prelude: string[],
  usage: Usage | undefined,
  signal: AbortSignal,
  now: () => number = performance.now.bind(performance),
): Promise<Held | Failed> {
  const state: WindowState = { openedAt: now(), tokens: 0, tokensAfterFirst: 0, bytes: 0 };
  holdFrames(state, prelude, 0, true);
  session.watchIdle(t.idleMs);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const wake = (): void => {
    timer = undefined;
    session.nudge();
  };
  let finished = false;
  try {
    for (;;) {
      const v = judgeWindow(p, state, finished, now());
      if (v.action === 'commit') return { ok: true, finished, usage, heldMs: now() - state.openedAt };
      if (v.action === 'fail') {
        const rate = v.tokensPerSecond.toFixed(1);
        return inWindow('slow-stream', fail('timeout', null, `the stream ran at ${rate} tokens/s in its commit window, below commit.minTokensPerSecond (${p.minTokensPerSecond})`));
      }
      if (v.waitMs !== undefined && timer === undefined) timer = setTimeout(wake, Math.max(1, Math.ceil(v.waitMs)));
      const steps = await session.next();
      if (steps === null) return inWindow('connection-error', fail('connection-error', null, 'the provider ended the stream inside the commit window'));
      const from = prelude.length;
      for (const step of steps) {
        if (step.error) {
          const e = step.error;
          return inWindow(e.errorClass, { ok: false, failure: { errorClass: e.errorClass, status: e.status, message: e.message, providerError: e } });
        }
        for (const s of step.out) prelude.push(s);
        if (step.usage) usage = step.usage;
        if (step.finished) finished = true;
      }
      holdFrames(state, prelude, from, false);
    }
  } catch (err) {
    if (signal.aborted) return abortedFailure(signal.reason, t);
    if (err instanceof StreamIdleError) return inWindow('stall', fail('timeout', null, `${err.message} in the commit window`));
    const cls = classifyNetworkError(err);
    if (cls) return inWindow(cls, fail(cls, null, `${describeNetworkError(err, cls, t, true)} in the commit window`));
    return inWindow('server-error', fail('server-error', null, `upstream failure in the commit window: ${err instanceof Error ? err.message : String(err)}`));
  } finally {
    clearTimeout(timer);
  }
}

function inWindow(reason: CommitWindowReason, r: Failed): Failed {
  r.failure.inWindow = reason;
  return r;
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

type Failed = Extract<AttemptResult, { ok: false }>;

function fail(errorClass: ErrorClass, status: number | null, message: string, providerError?: ProviderError): Failed {
  return { ok: false, failure: { errorClass, status, message, providerError } };
}

function abortedFailure(reason: unknown, t: Timeouts): Failed {
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
