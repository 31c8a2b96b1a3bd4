/**
 * The calls most integration tests make through the official openai Node
 * SDK: a one-line chat completion and a stream read to its end, each with
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
  const { text, headers } = await streamChat(client, model);
  return { text, headers };
}

/** A streamed message (`content`, "hi" by default) to `model`: the content and refusal texts, the last finish_reason, the response's headers. */
export async function streamChat(client: OpenAI, model: string, content = 'hi'): Promise<{ text: string; refusal: string; finish: string | null; headers: Headers }> {
  const messages = content === 'hi' ? HI : [{ role: 'user' as const, content }];
  const { data, response } = await client.chat.completions.create({ model, stream: true, messages }).withResponse();
  let text = '';
  let refusal = '';
  let finish: string | null = null;
  for await (const chunk of data) {
    const c = chunk.choices[0];
    text += c?.delta?.content ?? '';
    refusal += (c?.delta as { refusal?: string } | undefined)?.refusal ?? '';
    finish = c?.finish_reason ?? finish;
  }
  return { text, refusal, finish, headers: response.headers };
}
