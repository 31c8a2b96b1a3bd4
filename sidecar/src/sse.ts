/**
 * An incremental server-sent-events parser (the WHATWG rules): lines end in
 * \n, \r\n or \r, and may be split anywhere across chunks; `data:` lines of
 * one event are joined with \n; comments (`:`) are skipped; an event is
 * dispatched at a blank line. Buffers at most `maxEventBytes` of one event.
 */
import type { SseEvent } from './providers/types.ts';

export class SseParser {
  private buffer = '';
  private data: string[] = [];
  private event: string | undefined;
  private size = 0;
  private lastWasCR = false;
  private readonly decoder = new TextDecoder('utf-8');
  readonly maxEventBytes: number;

  constructor(maxEventBytes = 8 * 1024 * 1024) {
    this.maxEventBytes = maxEventBytes;
  }

  /** Feeds bytes; returns the events completed by them. Throws when one event grows past the limit. */
  push(chunk: Uint8Array | string): SseEvent[] {
    let text = typeof chunk === 'string' ? chunk : this.decoder.decode(chunk, { stream: true });
    if (this.lastWasCR && text.startsWith('\n')) text = text.slice(1);
    this.lastWasCR = false;
    const events: SseEvent[] = [];
    let start = 0;
    const buf = this.buffer + text;
    const offset = this.buffer.length;
    this.buffer = '';
    if (buf.indexOf('\r', offset) === -1) {
      // Lines end in \n only (every provider we know): let indexOf find them.
      for (let i = buf.indexOf('\n', offset); i !== -1; i = buf.indexOf('\n', i + 1)) {
        this.line(buf.slice(start, i), events);
        start = i + 1;
      }
    } else {
      for (let i = offset; i < buf.length; i++) {
        const c = buf.charCodeAt(i);
        if (c !== 10 && c !== 13) continue;
        this.line(buf.slice(start, i), events);
        if (c === 13) {
          if (i + 1 < buf.length) {
            if (buf.charCodeAt(i + 1) === 10) i++;
          } else {
            this.lastWasCR = true;
          }
        }
        start = i + 1;
      }
    }
    // Lines already consumed from the old buffer were counted in `offset`; keep the unfinished tail.
    this.buffer = buf.slice(start);
    if (this.buffer.length + this.size > this.maxEventBytes) throw new Error(`an SSE event is larger than ${this.maxEventBytes} bytes`);
    return events;
  }

  private line(line: string, events: SseEvent[]): void {
    if (line === '') {
      if (this.data.length) events.push({ event: this.event, data: this.data.join('\n') });
      this.data = [];
      this.event = undefined;
      this.size = 0;
      return;
    }
    if (line.charCodeAt(0) === 58) return; // ':' comment
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    if (field === 'data') {
      this.data.push(value);
      this.size += value.length;
      if (this.size > this.maxEventBytes) throw new Error(`an SSE event is larger than ${this.maxEventBytes} bytes`);
    } else if (field === 'event') {
      this.event = value;
    }
  }
}
