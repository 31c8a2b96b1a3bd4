/**
 * One upstream event stream being read: bytes → SSE events → the adapter's
 * decoder → OpenAI chunks. The attempt reads it until the commit point; the
 * relay reads the rest. Reading is pulled, so a slow client slows the
 * upstream read instead of filling memory.
 */
import type { Dispatcher } from 'undici';
import { SseParser } from './sse.ts';
import type { StreamDecoder, StreamStep } from './providers/types.ts';

export class StreamSession {
  private readonly iterator: AsyncIterator<Buffer>;
  private readonly parser = new SseParser();
  private readonly body: Dispatcher.ResponseData['body'];
  private readonly decoder: StreamDecoder;

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
      for (let i = 0; i < events.length; i++) steps[i] = this.decoder.push(events[i]!);
      return steps;
    }
  }

  /** Stops reading and releases the connection. */
  destroy(): void {
    if (!this.body.destroyed) this.body.destroy();
  }
}
