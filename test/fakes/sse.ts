/**
 * A small Server-Sent Events parser for tests: enough of the WHATWG rules
 * for the providers' streams (event/data/id fields, multi-line data,
 * comments, CRLF or LF line ends).
 */
export interface SSEEvent {
  /** The `event:` field; undefined when absent (OpenAI's streams have none). */
  event: string | undefined;
  /** The `data:` lines joined with "\n". */
  data: string;
  id: string | undefined;
}

/** Parses a whole SSE body. A trailing event without its blank line is dropped, as a client would. */
export function parseSSE(text: string): SSEEvent[] {
  const out: SSEEvent[] = [];
  let event: string | undefined;
  let id: string | undefined;
  let data: string[] = [];
  let hasData = false;
  const lines = text.split(/\r\n|\r|\n/);
  // The last element is what followed the final line break: an incomplete line.
  lines.pop();
  for (const line of lines) {
    if (line === '') {
      if (hasData) out.push({ event, data: data.join('\n'), id });
      event = undefined;
      data = [];
      hasData = false;
      continue;
    }
    if (line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') event = value;
    else if (field === 'data') {
      data.push(value);
      hasData = true;
    } else if (field === 'id') id = value;
  }
  return out;
}

/** The JSON payloads of a stream's events, `[DONE]` left out. */
export function sseJSON(text: string): { event: string | undefined; data: any }[] {
  return parseSSE(text)
    .filter((e) => e.data !== '[DONE]')
    .map((e) => ({ event: e.event, data: JSON.parse(e.data) }));
}
