/**
 * One upstream event stream being read: bytes → SSE events → the adapter's
 * decoder → OpenAI chunks. The attempt reads it until the commit point; the
 * relay reads the rest. Reading is pulled, so a slow client slows the
 * upstream read instead of filling memory.
 */
import type { Dispatcher } from 'undici';
import { SseParser } from './sse.ts';
import type { StreamDecoder, StreamStep } from './providers/types.ts';

/** Bytes read after the end of a stream before giving up on reusing its connection. */
const DRAIN_LIMIT = 64 * 1024;

export class StreamSession {
  private readonly iterator: AsyncIterator<Buffer>;
  private readonly parser = new SseParser();
  private readonly body: Dispatcher.ResponseData['body'];
  private readonly decoder: StreamDecoder;
  /** The decoder saw the provider's normal end of the stream. */
  private ended = false;
  private draining = false;

  constructor(body: Dispatcher.ResponseData['body'], decoder: StreamDecoder) {
    this.body = body;
    this.decoder = decoder;
    this.iterator = body[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  }

  /** The steps decoded from the next piece of the body, or null when the body ended. Throws network errors. */
  async next(): Promise<StreamStep[] | null> {
    for (;;) {
      const { value, done } = await this.iterator.next();
      if (done) return null;
      const events = this.parser.push(value);
      if (events.length === 0) continue;
      const steps: StreamStep[] = new Array(events.length);
      for (let i = 0; i < events.length; i++) {
        const step = this.decoder.push(events[i]!);
        if (step.finished) this.ended = true;
        steps[i] = step;
      }
      return steps;
    }
  }

  /** Stops reading and releases the connection. */
  destroy(): void {
    if (this.body.destroyed || this.draining) return;
    // A stream the provider finished has at most a few bytes left: read them, so the connection
    // goes back to the pool. Destroying an unfinished body makes undici build (and throw away)
    // an abort error with its stack trace: the costliest step of a whole stream.
    if (this.ended) {
      this.draining = true;
      void this.drain();
    } else this.body.destroy();
  }

  private async drain(): Promise<void> {
    let left = DRAIN_LIMIT;
    try {
      for (;;) {
        const { value, done } = await this.iterator.next();
        if (done) return;
        left -= value.length;
        if (left < 0) break;
      }
    } catch {
      return; // the body failed on its own: nothing left to release
    }
    this.body.destroy();
  }
}
