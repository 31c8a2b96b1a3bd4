/**
 * One upstream event stream being read: bytes → SSE events → the adapter's
 * decoder → OpenAI chunks. undici's dispatch handler feeds it (upstream.ts:
 * no body stream, no async iterator, no promise per chunk); the attempt
 * reads it until the commit point, the relay reads the rest. Reading is
 * pulled: past HIGH_WATER bytes decoded and not yet read, the upstream
 * socket is paused, so a slow client slows the upstream read instead of
 * filling memory.
 */
import type { FramedStream } from './surfaces/types.ts';
import type { Dispatcher } from 'undici';
import { StreamIdleError, UpstreamAbortedError } from './errors.ts';
import { formatMs } from './attempt-timeouts.ts';
import { SseParser } from './sse.ts';
import type { StreamDecoder, StreamStep } from './providers/types.ts';

/** Bytes read after the end of a stream before giving up on reusing its connection. */
const DRAIN_LIMIT = 64 * 1024;
/** Decoded bytes waiting for the reader before the upstream is paused, and the level it resumes at. */
const HIGH_WATER = 64 * 1024;
const LOW_WATER = 16 * 1024;

/** What upstream.ts feeds a stream's body into. */
export interface StreamSink {
  /** The body starts: the controller pauses, resumes and aborts the upstream exchange. */
  attach(controller: Dispatcher.DispatchController): void;
  data(chunk: Buffer): void;
  end(): void;
  fail(err: Error): void;
}

interface Reader {
  resolve: (steps: StreamStep[] | null) => void;
  reject: (err: Error) => void;
}

interface Batch {
  steps: StreamStep[];
  bytes: number;
}

export class StreamSession implements StreamSink {
  private readonly parser = new SseParser();
  private readonly decoder: StreamDecoder;
  private controller: Dispatcher.DispatchController | undefined;
  private readonly queue: Batch[] = [];
  private queued = 0;
  private bodyEnded = false;
  private error: Error | undefined;
  private waiting: Reader | undefined;
  /** The decoder saw the provider's normal end of the stream. */
  private ended = false;
  /** Closed by its reader: what still comes is dropped. */
  private closed = false;
  private dropped = 0;
  /** Some of the body came (any byte: a comment or a ping counts): the stream is alive. */
  sawBytes = false;
  /** The idle watch of a committed stream (watchIdle), refreshed by every piece of the body. */
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(decoder: StreamDecoder) {
    this.decoder = decoder;
  }

  /** How the decoder's output is framed for another API than Chat (undefined: Chat's `data:` lines). */
  get framed(): FramedStream | undefined {
    return this.decoder.framed;
  }

  // ---------------------------------------------------------------- the feed

  attach(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.closed) controller.abort(sessionClosed());
  }

  data(chunk: Buffer): void {
    this.sawBytes = true;
    this.idleTimer?.refresh();
    if (this.closed) {
      this.dropped += chunk.length;
      if (this.dropped > DRAIN_LIMIT) this.controller?.abort(sessionClosed());
      return;
    }
    if (this.error) return;
    let steps: StreamStep[];
    try {
      if (this.decoder.pushBytes) {
        // A stream that is not SSE (Bedrock's event stream): the decoder reads its own frames.
        steps = this.decoder.pushBytes(chunk);
        if (steps.length === 0) return;
        if (steps.some((st) => st.finished)) this.ended = true;
      } else {
        const events = this.parser.push(chunk);
        if (events.length === 0) return;
        steps = new Array(events.length);
        for (let i = 0; i < events.length; i++) {
          const step = this.decoder.push(events[i]!);
          if (step.finished) this.ended = true;
          steps[i] = step;
        }
      }
    } catch (err) {
      // An event over the size limit, or a decoder bug: the stream cannot go on.
      this.fail(err as Error);
      this.controller?.abort(err as Error);
      return;
    }
    const reader = this.takeReader();
    if (reader) {
      reader.resolve(steps);
      return;
    }
    this.queue.push({ steps, bytes: chunk.length });
    this.queued += chunk.length;
    if (this.queued > HIGH_WATER && this.controller && !this.controller.paused) this.controller.pause();
  }

  end(): void {
    this.stopIdleWatch();
    this.bodyEnded = true;
    if (this.queue.length === 0) this.takeReader()?.resolve(null);
  }

  fail(err: Error): void {
    this.stopIdleWatch();
    if (this.error || this.bodyEnded) return;
    this.error = err;
    if (this.queue.length === 0) this.takeReader()?.reject(err);
  }

  /**
   * From the commit point on, a gap of more than `ms` between two pieces of the body ends the
   * stream with a StreamIdleError (classified `timeout`). Before it, the gaps are bounded by the
   * try's firstContent timeout (undici's bodyTimeout), so a model that thinks silently for
   * minutes before its first content is not cut by `idle`. One timer, refreshed per chunk.
   */
  watchIdle(ms: number): void {
    if (this.bodyEnded || this.error || this.closed || this.idleTimer) return;
    this.idleTimer = setTimeout(() => {
      this.idleTimer = undefined;
      const err = new StreamIdleError(ms, `the stream stalled longer than the idle timeout (${formatMs(ms)})`);
      this.fail(err);
      this.controller?.abort(err);
    }, ms);
    this.idleTimer.unref();
  }

  private stopIdleWatch(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
  }

  // -------------------------------------------------------------- the reader

  /** The steps decoded from the next piece of the body, or null when the body ended. Rejects with network errors. */
  next(): Promise<StreamStep[] | null> {
    const batch = this.queue.shift();
    if (batch) {
      this.queued -= batch.bytes;
      if (this.queued < LOW_WATER && this.controller?.paused) this.controller.resume();
      return Promise.resolve(batch.steps);
    }
    if (this.error) return Promise.reject(this.error);
    if (this.bodyEnded) return Promise.resolve(null);
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
    });
  }

  /**
   * Wakes the reader waiting in next() with no steps (an empty list), so it can look at its clock
   * (the commit window's timer, commit-window.ts). Nothing of the stream is lost: what comes
   * next goes to the next read.
   */
  nudge(): void {
    this.takeReader()?.resolve([]);
  }

  /** The reader waiting in next(), if any, no longer waiting. */
  private takeReader(): Reader | undefined {
    const reader = this.waiting;
    this.waiting = undefined;
    return reader;
  }

  /** Stops reading and releases the connection. */
  destroy(): void {
    this.stopIdleWatch();
    if (this.closed) return;
    this.closed = true;
    this.queue.length = 0;
    this.queued = 0;
    this.takeReader()?.resolve(null);
    if (this.bodyEnded || this.error) return;
    // A stream the provider finished has at most a few bytes left: let them come and drop them
    // (up to DRAIN_LIMIT), so the connection goes back to the pool. An unfinished one is aborted.
    if (!this.ended) this.controller?.abort(sessionClosed());
    else if (this.controller?.paused) this.controller.resume();
  }
}

function sessionClosed(): Error {
  return new UpstreamAbortedError('the stream was closed by its reader');
}
