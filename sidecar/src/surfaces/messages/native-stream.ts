/**
 * A native Messages stream, passed through: every event goes on as a frame
 * (`event: X\ndata: Y\n\n`, Y exactly as received, pings included), and the
 * decoder only watches for the commit point, usage, errors and the end.
 *
 * The commit point is the first content_block_delta (text, input_json,
 * thinking) or the content_block_start of a tool_use. Thinking commits here
 * although the chat translation does not commit on it: a Messages client
 * reads thinking as a block of the message it is given (Claude Code shows
 * it as it comes, and sends it back signed in the next turn), so holding it
 * back until the first text would stall the client for the whole thinking
 * phase and buffer it all; once sent, a retry elsewhere would give another
 * message. Before the commit point an `error` event is a step error (an
 * overloaded_error is 529, server-error, as the chat adapter reads it) so
 * the request can move on; after it, the error still ends the stream
 * through `framed.error`, in Anthropic's shape with the provider's type.
 *
 * After the commit point only the event name is looked at: the data is
 * parsed only for message_start and message_delta (usage) and error.
 */
import { anthropicError, promptTokens } from '../../providers/anthropic-response.ts';
import { count, emptyStep, errorStep, invalidStreamEventError, isObject, tryParse } from '../../providers/common.ts';
import type { SseEvent, StreamDecoder, StreamStep, Usage } from '../../providers/types.ts';
import type { FramedStream, StreamErrorFields } from '../types.ts';
import { errorFrame, frame } from './frames.ts';

const FRAMED: FramedStream = { end: '', error: (e: StreamErrorFields) => errorFrame(e) };

/** `"type":"tool_use"` as the content_block of a content_block_start (whitespace as JSON allows). */
const TOOL_USE_BLOCK = /"content_block"\s*:\s*\{\s*"type"\s*:\s*"tool_use"/;

export class MessagesPassThroughDecoder implements StreamDecoder {
  readonly framed = FRAMED;
  #committed = false;
  #prompt = 0;
  #completion = 0;

  push(event: SseEvent): StreamStep {
    const name = event.event ?? '';
    switch (name) {
      case 'message_start':
      case 'message_delta':
        return this.#usageEvent(name, event);
      case 'content_block_delta':
        return this.#pass(event, !this.#committed);
      case 'content_block_start':
        return this.#pass(event, !this.#committed && this.#startsToolUse(event.data));
      case 'message_stop':
        return { out: [frame(name, event.data)], content: false, finished: true, usage: this.#usage() };
      case 'error': {
        const ev = tryParse(event.data);
        return errorStep(anthropicError(isObject(ev) ? ev.error : undefined, undefined));
      }
      case '':
        // A data-only event is not one the Messages API sends: nothing to pass on.
        return emptyStep();
      default:
        // ping, content_block_stop, and event types added later.
        return this.#pass(event, false);
    }
  }

  #startsToolUse(data: string): boolean {
    // Before the commit point only: a regular expression on the text rather than a parse of every start.
    return TOOL_USE_BLOCK.test(data);
  }

  #pass(event: SseEvent, content: boolean): StreamStep {
    if (content) this.#committed = true;
    return { out: [frame(event.event!, event.data)], content, finished: false };
  }

  #usageEvent(name: string, event: SseEvent): StreamStep {
    const ev = tryParse(event.data);
    if (!isObject(ev)) return errorStep(invalidStreamEventError());
    const u = name === 'message_start' ? (isObject(ev.message) ? ev.message.usage : undefined) : ev.usage;
    if (!isObject(u)) return { out: [frame(name, event.data)], content: false, finished: false };
    // message_delta counts are cumulative; newer API versions repeat the input counts there.
    if (name === 'message_start' || typeof u.input_tokens === 'number') this.#prompt = promptTokens(u);
    if (typeof u.output_tokens === 'number') this.#completion = count(u.output_tokens);
    return { out: [frame(name, event.data)], content: false, finished: false, usage: this.#usage() };
  }

  #usage(): Usage {
    return { prompt: this.#prompt, completion: this.#completion };
  }
}
