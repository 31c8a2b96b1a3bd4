/**
 * A Responses request as a Chat Completions body, for targets reached
 * through Chat. unsupported.ts has already refused what cannot translate.
 *
 *   instructions, system and developer messages   `system` messages: every
 *       Chat-compatible server takes `system`, not all take `developer`
 *       (OpenAI's own Chat maps one to the other for reasoning models).
 *   message items          user/assistant/system messages; text parts, images
 *                          by URL, files by file_data, refusals (assistant).
 *   function_call items    assistant `tool_calls`; consecutive calls, and the
 *                          assistant text just before them, make one message.
 *   function_call_output   `tool` messages.
 *   reasoning items        dropped: Chat has no input for them.
 *   metadata, store        dropped: Chat keeps metadata only with store, and
 *                          the conversation state is the sidecar's own.
 *   truncation, max_tool_calls, stream_options, reasoning.summary   dropped.
 */
import { isObject, str, type Json } from '../../providers/common.ts';

/** Fields copied as they are (same name, same meaning in Chat). */
const SAME_FIELDS = ['model', 'temperature', 'top_p', 'user', 'prompt_cache_key', 'safety_identifier', 'parallel_tool_calls', 'service_tier'] as const;

type ChatMessage = Json & { role: string };

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  let out = '';
  for (const p of content) {
    if (typeof p === 'string') out += p;
    else if (isObject(p) && typeof p.text === 'string') out += p.text;
  }
  return out;
}

/** A Responses content part as a Chat one. */
function chatPart(part: unknown): Json {
  if (!isObject(part)) return { type: 'text', text: String(part) };
  switch (part.type) {
    case 'input_image': {
      const image: Json = { url: part.image_url };
      if (typeof part.detail === 'string' && part.detail !== 'original') image.detail = part.detail;
      return { type: 'image_url', image_url: image };
    }
    case 'input_file': {
      const file: Json = { file_data: part.file_data };
      if (typeof part.filename === 'string') file.filename = part.filename;
      return { type: 'file', file };
    }
    case 'refusal':
      return { type: 'refusal', refusal: part.refusal };
    default:
      return { type: 'text', text: str(part.text) ?? '' };
  }
}

function onlyText(content: unknown[]): boolean {
  return content.every((p) => typeof p === 'string' || (isObject(p) && (p.type === 'input_text' || p.type === 'output_text')));
}

function messageOf(item: Json): ChatMessage {
  const role = item.role === 'developer' ? 'system' : (str(item.role) ?? 'user');
  const content = item.content;
  if (typeof content === 'string') return { role, content };
  if (!Array.isArray(content)) return { role, content: '' };
  // System and assistant messages take text; servers that take parts at all take them for user messages.
  if (role === 'system' || (onlyText(content) && (role === 'assistant' || content.length === 1))) return { role, content: textOf(content) };
  return { role, content: content.map(chatPart) };
}

function outputText(output: unknown): string {
  return typeof output === 'string' ? output : textOf(output);
}

function itemType(item: Json): string {
  return item.type === undefined && typeof item.role === 'string' ? 'message' : (str(item.type) ?? '');
}

/** The chat messages of `instructions` and `input`. */
export function chatMessages(body: Json): ChatMessage[] {
  const out: ChatMessage[] = [];
  if (typeof body.instructions === 'string' && body.instructions) out.push({ role: 'system', content: body.instructions });
  const input = body.input;
  if (typeof input === 'string') {
    out.push({ role: 'user', content: input });
    return out;
  }
  if (!Array.isArray(input)) return out;
  for (const raw of input) {
    if (!isObject(raw)) continue;
    switch (itemType(raw)) {
      case 'message':
        out.push(messageOf(raw));
        break;
      case 'function_call': {
        const call = { id: raw.call_id, type: 'function', function: { name: raw.name, arguments: str(raw.arguments) ?? '' } };
        const last = out[out.length - 1];
        if (last && last.role === 'assistant') {
          last.tool_calls = [...(Array.isArray(last.tool_calls) ? last.tool_calls : []), call];
          if (last.content === '') last.content = null;
        } else {
          out.push({ role: 'assistant', content: null, tool_calls: [call] });
        }
        break;
      }
      case 'function_call_output':
        out.push({ role: 'tool', tool_call_id: raw.call_id, content: outputText(raw.output) });
        break;
      // reasoning: dropped (see above)
    }
  }
  return out;
}

function chatTool(tool: Json): Json {
  const fn: Json = { name: tool.name };
  if (tool.description !== undefined && tool.description !== null) fn.description = tool.description;
  if (tool.parameters !== undefined && tool.parameters !== null) fn.parameters = tool.parameters;
  if (typeof tool.strict === 'boolean') fn.strict = tool.strict;
  return { type: 'function', function: fn };
}

function chatToolChoice(choice: unknown): unknown {
  if (isObject(choice) && choice.type === 'function') return { type: 'function', function: { name: choice.name } };
  return choice;
}

function responseFormat(format: unknown): Json | undefined {
  if (!isObject(format)) return undefined;
  if (format.type === 'json_object') return { type: 'json_object' };
  if (format.type !== 'json_schema') return undefined;
  const schema: Json = { name: format.name };
  if (format.description !== undefined) schema.description = format.description;
  if (format.schema !== undefined) schema.schema = format.schema;
  if (typeof format.strict === 'boolean') schema.strict = format.strict;
  return { type: 'json_schema', json_schema: schema };
}

/** The Chat Completions body of a Responses request (its model left as the client's). */
export function toChatBody(body: Json): Json {
  const out: Json = {};
  for (const k of SAME_FIELDS) if (body[k] !== undefined && body[k] !== null) out[k] = body[k];
  out.messages = chatMessages(body);
  if (Array.isArray(body.tools) && body.tools.length > 0) out.tools = body.tools.filter(isObject).map(chatTool);
  if (body.tool_choice !== undefined && body.tool_choice !== null) out.tool_choice = chatToolChoice(body.tool_choice);
  if (isObject(body.text)) {
    const rf = responseFormat(body.text.format);
    if (rf) out.response_format = rf;
    if (typeof body.text.verbosity === 'string') out.verbosity = body.text.verbosity;
  }
  if (isObject(body.reasoning) && typeof body.reasoning.effort === 'string') out.reasoning_effort = body.reasoning.effort;
  if (typeof body.max_output_tokens === 'number') out.max_completion_tokens = body.max_output_tokens;
  const wantsLogprobs = Array.isArray(body.include) && body.include.includes('message.output_text.logprobs');
  if (typeof body.top_logprobs === 'number' && body.top_logprobs > 0) {
    out.logprobs = true;
    out.top_logprobs = body.top_logprobs;
  } else if (wantsLogprobs) {
    out.logprobs = true;
  }
  if (body.stream === true) {
    out.stream = true;
    out.stream_options = { include_usage: true };
  }
  return out;
}
