/**
 * The official openai client answered by a fixed text instead of a server:
 * its `fetch` returns the given body (an SSE stream or a JSON object), so a
 * unit test reads what a pure encoder wrote through the SDK's own parser and
 * accumulator, with no port and no timer.
 */
import OpenAI from 'openai';

export function openaiOverText(body: string, contentType = 'text/event-stream'): OpenAI {
  return new OpenAI({
    apiKey: 'sk-test',
    baseURL: 'http://sdk.invalid/v1',
    maxRetries: 0,
    fetch: async () => new Response(body, { status: 200, headers: { 'content-type': contentType } }),
  });
}
