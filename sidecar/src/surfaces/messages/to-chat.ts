/**
 * A Messages request -> a Chat Completions request (SurfaceTranslation.toChat).
 * `unsupported` (unsupported.ts) has been asked first, so what is here
 * translates; what is malformed is a BadRequestError naming its place.
 *
 * Choices (README, "Messages API on other providers"):
 *   - `system` (string or text blocks) becomes one system message, the
 *     blocks' texts joined by a blank line; `cache_control` is dropped
 *     everywhere (Chat servers cache prefixes on their own).
 *   - A user turn's `tool_result` blocks become `tool` messages right after
 *     the assistant message with the calls (Chat wants them there); the rest
 *     of the turn (text, images, documents) becomes a user message after
 *     them. Chat tool messages hold text only, so a result's images and
 *     documents go into that user message. A result with `is_error` has its
 *     text prefixed with TOOL_ERROR_PREFIX.
 *   - thinking and redacted_thinking blocks of past turns are dropped: their
 *     signatures mean nothing to another model.
 *   - `max_tokens` -> `max_completion_tokens`: OpenAI's reasoning models
 *     refuse `max_tokens`, and vLLM, llama.cpp and the sidecar's anthropic
 *     chat adapter take `max_completion_tokens` too.
 *   - `stop_sequences` -> `stop` as they are. OpenAI takes at most 4 and
 *     answers more with its own 400; vLLM and llama.cpp take any number, so
 *     it is not a reason to skip every chat target.
 *   - `top_k` is dropped (OpenAI refuses it; the others treat it as a hint).
 *   - `thinking` -> `reasoning_effort` (thinkingEffort below).
 *   - `output_config.format` (and the older beta `output_format`) ->
 *     `response_format: json_schema`.
 */
import { BadRequestError } from '../../errors.ts';
import { isObject, str, type Json } from '../../providers/common.ts';
import type { TranslationContext } from '../types.ts';

/** Put before the text of a tool_result with `is_error: true` (Chat has no such flag). */
export const TOOL_ERROR_PREFIX = '[tool error] ';
/** The file name of a PDF document without a title (Chat's file parts want one). */
export const DEFAULT_PDF_NAME = 'document.pdf';
/** The json_schema name of a structured-output format (Anthropic's has none; OpenAI requires one). */
export const OUTPUT_SCHEMA_NAME = 'output';

function bad(message: string, param: string): BadRequestError {
  return new BadRequestError(message, param);
}

/**
 * `thinking` -> reasoning_effort. `enabled` maps its budget_tokens onto
 * the bands the chat->anthropic translation uses the other way
 * (anthropic-request.ts THINKING_BUDGETS: low 1024, medium 4096, high
 * 16384): below 4096 low, below 16384 medium, from 16384 high. `adaptive`
 * takes output_config.effort (xhigh and max -> high), medium without it.
 * `disabled` and no thinking send no reasoning_effort: a non-reasoning chat
 * model may refuse the field.
 */
export function thinkingEffort(body: Json): string | undefined {
  const thinking = isObject(body.thinking) ? body.thinking : undefined;
  if (thinking?.type === 'enabled') {
    const budget = typeof thinking.budget_tokens === 'number' ? thinking.budget_tokens : 0;
    return budget >= 16384 ? 'high' : budget >= 4096 ? 'medium' : 'low';
  }
  if (thinking?.type === 'adaptive') {
    const effort = isObject(body.output_config) ? str(body.output_config.effort) : undefined;
    if (effort === 'low' || effort === 'medium' || effort === 'high') return effort;
    return effort === 'xhigh' || effort === 'max' ? 'high' : 'medium';
  }
  return undefined;
}

function textOfBlocks(blocks: unknown, param: string): string {
  if (typeof blocks === 'string') return blocks;
  if (!Array.isArray(blocks)) throw bad(`${param} must be a string or an array of text blocks`, param);
  const texts: string[] = [];
  blocks.forEach((b, j) => {
    if (!isObject(b) || typeof b.text !== 'string') throw bad(`${param}.${j}.text must be a string`, `${param}.${j}`);
    texts.push(b.text);
  });
  return texts.join('\n\n');
}

function dataURL(source: Json, param: string): string {
  const media = str(source.media_type);
  const data = str(source.data);
  if (!media || data === undefined) throw bad(`${param}.source needs media_type and data`, `${param}.source`);
  return `data:${media};base64,${data}`;
}

function imagePart(block: Json, param: string): Json {
  const source = isObject(block.source) ? block.source : {};
  if (source.type === 'url') {
    const url = str(source.url);
    if (!url) throw bad(`${param}.source.url is missing`, `${param}.source.url`);
    return { type: 'image_url', image_url: { url } };
  }
  return { type: 'image_url', image_url: { url: dataURL(source, param) } };
}

/** A document's parts: a base64 PDF as a Chat file part, text sources as text (with the title first when there is one). */
function documentParts(block: Json, param: string): Json[] {
  const source = isObject(block.source) ? block.source : {};
  const title = str(block.title);
  if (source.type === 'base64') {
    return [{ type: 'file', file: { filename: title || DEFAULT_PDF_NAME, file_data: dataURL(source, param) } }];
  }
  const heading = title ? `${title}\n\n` : '';
  if (source.type === 'text') return [{ type: 'text', text: heading + (str(source.data) ?? '') }];
  // `content`: a string or text/image blocks.
  const content = source.content;
  if (typeof content === 'string') return [{ type: 'text', text: heading + content }];
  if (!Array.isArray(content)) throw bad(`${param}.source.content must be a string or an array of blocks`, `${param}.source.content`);
  const parts = content.map((b, j) => contentPart(b, `${param}.source.content.${j}`));
  if (heading) parts.unshift({ type: 'text', text: title! });
  return parts;
}

/** One text, image or document block -> Chat content parts (a document may give several). */
function contentParts(block: unknown, param: string): Json[] {
  if (!isObject(block)) throw bad(`${param} must be an object`, param);
  switch (block.type) {
    case 'text':
      if (typeof block.text !== 'string') throw bad(`${param}.text must be a string`, `${param}.text`);
      return [{ type: 'text', text: block.text }];
    case 'image':
      return [imagePart(block, param)];
    case 'document':
      return documentParts(block, param);
    default:
      throw bad(`${param}.type '${str(block.type) ?? '?'}' is not supported here`, `${param}.type`);
  }
}

function contentPart(block: unknown, param: string): Json {
  const parts = contentParts(block, param);
  if (parts.length !== 1) throw bad(`${param}: a document cannot nest here`, param);
  return parts[0]!;
}

/** A tool_result's text for the tool message, and its images and documents for the user message after it. */
function toolResult(block: Json, param: string): { message: Json; media: Json[] } {
  const id = str(block.tool_use_id);
  if (!id) throw bad(`${param}.tool_use_id is missing`, `${param}.tool_use_id`);
  const texts: string[] = [];
  const media: Json[] = [];
  const content = block.content;
  if (typeof content === 'string') texts.push(content);
  else if (Array.isArray(content)) {
    content.forEach((b, j) => {
      for (const part of contentParts(b, `${param}.content.${j}`)) {
        if (part.type === 'text') texts.push(part.text as string);
        else media.push(part);
      }
    });
  } else if (content != null) throw bad(`${param}.content must be a string or an array of blocks`, `${param}.content`);
  let text = texts.join('\n\n');
  if (block.is_error === true) text = TOOL_ERROR_PREFIX + text;
  return { message: { role: 'tool', tool_call_id: id, content: text }, media };
}

/** A user turn -> its tool messages first, then a user message with the rest (if any). */
function userMessages(content: unknown, param: string): Json[] {
  if (typeof content === 'string') return [{ role: 'user', content }];
  if (!Array.isArray(content)) throw bad(`${param} must be a string or an array of content blocks`, param);
  const tools: Json[] = [];
  const parts: Json[] = [];
  content.forEach((b, j) => {
    const p = `${param}.${j}`;
    if (isObject(b) && b.type === 'tool_result') {
      const r = toolResult(b, p);
      tools.push(r.message);
      parts.push(...r.media);
    } else if (isObject(b) && (b.type === 'thinking' || b.type === 'redacted_thinking')) {
      // not a user's block; ignored as on the assistant side
    } else parts.push(...contentParts(b, p));
  });
  if (parts.length === 0) return tools;
  // Text-only content stays a plain string: every Chat server takes it.
  const plain = parts.every((p) => p.type === 'text');
  tools.push({ role: 'user', content: plain ? parts.map((p) => p.text as string).join('\n\n') : parts });
  return tools;
}

function assistantMessage(content: unknown, param: string): Json | undefined {
  if (typeof content === 'string') return { role: 'assistant', content };
  if (!Array.isArray(content)) throw bad(`${param} must be a string or an array of content blocks`, param);
  const texts: string[] = [];
  const calls: Json[] = [];
  content.forEach((b, j) => {
    const p = `${param}.${j}`;
    if (!isObject(b)) throw bad(`${p} must be an object`, p);
    switch (b.type) {
      case 'text':
        if (typeof b.text !== 'string') throw bad(`${p}.text must be a string`, `${p}.text`);
        texts.push(b.text);
        break;
      case 'tool_use': {
        const id = str(b.id);
        const name = str(b.name);
        if (!id || !name) throw bad(`${p} needs an id and a name`, p);
        calls.push({ id, type: 'function', function: { name, arguments: JSON.stringify(b.input ?? {}) } });
        break;
      }
      case 'thinking':
      case 'redacted_thinking':
        break;
      default:
        throw bad(`${p}.type '${str(b.type) ?? '?'}' is not supported in an assistant turn here`, `${p}.type`);
    }
  });
  if (texts.length === 0 && calls.length === 0) return undefined;
  const m: Json = { role: 'assistant', content: texts.length ? texts.join('') : null };
  if (calls.length) m.tool_calls = calls;
  return m;
}

function tools(list: unknown): Json[] | undefined {
  if (list == null) return undefined;
  if (!Array.isArray(list)) throw bad('tools must be an array', 'tools');
  if (list.length === 0) return undefined;
  return list.map((t, j) => {
    if (!isObject(t) || !str(t.name)) throw bad(`tools.${j}.name is missing`, `tools.${j}`);
    const fn: Json = { name: t.name, parameters: isObject(t.input_schema) ? t.input_schema : { type: 'object', properties: {} } };
    if (str(t.description)) fn.description = t.description;
    return { type: 'function', function: fn };
  });
}

function toolChoice(tc: unknown, out: Json): void {
  if (!isObject(tc)) return;
  switch (tc.type) {
    case 'auto':
      out.tool_choice = 'auto';
      break;
    case 'any':
      out.tool_choice = 'required';
      break;
    case 'none':
      out.tool_choice = 'none';
      break;
    case 'tool': {
      const name = str(tc.name);
      if (!name) throw bad('tool_choice.name is missing', 'tool_choice.name');
      out.tool_choice = { type: 'function', function: { name } };
      break;
    }
  }
  if (tc.disable_parallel_tool_use === true && tc.type !== 'none') out.parallel_tool_calls = false;
}

function responseFormat(body: Json): Json | undefined {
  const format = (isObject(body.output_config) ? body.output_config.format : undefined) ?? body.output_format;
  if (!isObject(format) || format.type !== 'json_schema' || !isObject(format.schema)) return undefined;
  return { type: 'json_schema', json_schema: { name: OUTPUT_SCHEMA_NAME, schema: format.schema } };
}

function numberOr(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

export function messagesToChat(body: Json, _ctx: TranslationContext): Json {
  if (!Array.isArray(body.messages)) throw bad('messages: Field required', 'messages');
  const messages: Json[] = [];
  if (body.system !== undefined && body.system !== null) {
    const system = textOfBlocks(body.system, 'system');
    if (system !== '') messages.push({ role: 'system', content: system });
  }
  body.messages.forEach((m, i) => {
    const p = `messages.${i}`;
    if (!isObject(m)) throw bad(`${p} must be an object`, p);
    if (m.role === 'user') messages.push(...userMessages(m.content, `${p}.content`));
    else if (m.role === 'assistant') {
      const a = assistantMessage(m.content, `${p}.content`);
      if (a) messages.push(a);
    } else throw bad(`${p}.role: Input should be 'user' or 'assistant'`, `${p}.role`);
  });

  const out: Json = { model: body.model, messages };
  const maxTokens = numberOr(body.max_tokens);
  if (maxTokens !== undefined) out.max_completion_tokens = maxTokens;
  if (Array.isArray(body.stop_sequences) && body.stop_sequences.length) out.stop = body.stop_sequences;
  const temperature = numberOr(body.temperature);
  if (temperature !== undefined) out.temperature = temperature;
  const topP = numberOr(body.top_p);
  if (topP !== undefined) out.top_p = topP;
  const user = isObject(body.metadata) ? str(body.metadata.user_id) : undefined;
  if (user) out.user = user;
  const chatTools = tools(body.tools);
  if (chatTools) {
    out.tools = chatTools;
    toolChoice(body.tool_choice, out);
  }
  const effort = thinkingEffort(body);
  if (effort) out.reasoning_effort = effort;
  const format = responseFormat(body);
  if (format) out.response_format = format;
  if (body.stream === true) {
    out.stream = true;
    out.stream_options = { include_usage: true };
  }
  return out;
}
