/**
 * The two calls most integration tests make through the official openai
 * Node SDK: a one-line chat completion and the text of a stream, each with
 * the response's headers.
 */
import type OpenAI from 'openai';

const HI = [{ role: 'user' as const, content: 'hi' }];

/** A non-stream "hi" to `model`, with the raw response (headers). */
export function askChat(client: OpenAI, model: string) {
  return client.chat.completions.create({ model, messages: HI }).withResponse();
}

/** A streamed "hi" to `model`: the content text it added up to, and the response's headers. */
export async function streamChatText(client: OpenAI, model: string): Promise<{ text: string; headers: Headers }> {
  const { data, response } = await client.chat.completions.create({ model, stream: true, messages: HI }).withResponse();
  let text = '';
  for await (const chunk of data) text += chunk.choices[0]?.delta?.content ?? '';
  return { text, headers: response.headers };
}
