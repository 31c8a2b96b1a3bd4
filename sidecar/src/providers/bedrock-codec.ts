/**
 * Bedrock's `application/vnd.amazon.eventstream` body -> whole frames,
 * decoded by @smithy/eventstream-codec (prelude and message CRC32s checked:
 * a mismatch throws, and the stream cannot go on). The codec decodes one
 * whole message at a time: this reader cuts the byte stream into messages
 * by their prelude's total length. Loaded only by bedrock targets
 * (bedrock.ts imports it on first use).
 */
import { EventStreamCodec } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';

/** One decoded frame: string-valued headers (`:event-type`, `:message-type`, …) and the payload. */
export interface Frame {
  headers: Record<string, string>;
  body: Uint8Array;
}

/** The largest frame taken (Bedrock's are a few KB; a garbage length must not buffer without end). */
export const MAX_FRAME_BYTES = 16 * 1024 * 1024;
const MIN_FRAME_BYTES = 16;

export class FrameReader {
  readonly #codec = new EventStreamCodec(toUtf8, fromUtf8);
  #buffer: Buffer = Buffer.alloc(0);

  /** The frames completed by `chunk`. Throws on a bad length or CRC. */
  push(chunk: Buffer): Frame[] {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    const frames: Frame[] = [];
    while (this.#buffer.length >= 4) {
      const length = this.#buffer.readUInt32BE(0);
      if (length < MIN_FRAME_BYTES || length > MAX_FRAME_BYTES) throw new Error(`event stream frame of ${length} bytes: not a frame`);
      if (this.#buffer.length < length) break;
      const message = this.#codec.decode(this.#buffer.subarray(0, length));
      this.#buffer = this.#buffer.subarray(length);
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(message.headers)) headers[k] = String(v.value);
      frames.push({ headers, body: message.body });
    }
    return frames;
  }
}
