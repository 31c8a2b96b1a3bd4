/**
 * OpenAI chat request -> Anthropic Messages request.
 *
 * Anthropic's rules that shape this code: the system prompt is a top-level
 * field, turns alternate user/assistant, tool calls are `tool_use` blocks in
 * an assistant turn and their results `tool_result` blocks (first) in the
 * next user turn, text blocks must not be empty, and a final assistant turn
 * (a prefill) must not end in whitespace.
 */
import { BadRequestError } from '../errors.ts';
import { isObject, str, type Json } from './common.ts';

/** Used when the client sets neither max_tokens nor max_completion_tokens (Anthropic requires one). */
export const DEFAULT_MAX_TOKENS = 4096;

interface Turn {
  role: 'user' | 'assistant';
  content: Json[];
  /** How many tool_result blocks lead `content` (they must come first in a user turn). */
  results: number;
}

function bad(message: string, param: string): BadRequestError {
  return new BadRequestError(message, param);
}

function describe(v: unknown): string {
  const s = typeof v === 'string' ? v : JSON.stringify(v) ?? String(v);
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}

function isBlank(s: string): boolean {
  return s.trim().length === 0;
}

/** Anthropic's tool ids must match ^[a-zA-Z0-9_-]+$; ids from other providers may not. Same mapping both ways, so ids keep matching. */
const BAD_ID_CHAR = /[^a-zA-Z0-9_-]/;
const BAD_ID_CHARS = /[^a-zA-Z0-9_-]/g;
function toolId(id: string): string {
  return BAD_ID_CHAR.test(id) ? id.replace(BAD_ID_CHARS, '_') : id;
}

function textBlock(text: string, part?: Json): Json {
  const block: Json = { type: 'text', text };
  if (part && isObject(part.cache_control)) block.cache_control = part.cache_control;
  return block;
}

/** `data:<media type>;base64,<data>` -> Anthropic's base64 source. */
function base64Source(url: string, param: string): Json {
  const comma = url.indexOf(',');
  const header = comma > 5 ? url.slice(5, comma) : '';
  if (!header.endsWith(';base64')) throw bad(`${param}: only base64 data: URLs are supported`, param);
  return { type: 'base64', media_type: header.slice(0, -';base64'.length), data: url.slice(comma + 1) };
}

function imageBlock(part: Json, param: string): Json {
  const img = part.image_url;
  const url = typeof img === 'string' ? img : isObject(img) ? str(img.url) : undefined;
  if (!url) throw bad(`${param}.image_url.url is missing`, `${param}.image_url`);
  if (url.startsWith('data:')) return { type: 'image', source: base64Source(url, `${param}.image_url.url`) };
  if (url.startsWith('https://') || url.startsWith('http://')) return { type: 'image', source: { type: 'url', url } };
  throw bad(`${param}.image_url.url must be an http(s) or data: URL`, `${param}.image_url.url`);
}

/** OpenAI `file` parts carrying inline data (PDFs) -> Anthropic document blocks. */
function fileBlock(part: Json, param: string): Json {
  const file = isObject(part.file) ? part.file : {};
  const data = str(file.file_data);
  if (!data) throw bad(`${param}: only inline file_data is supported by anthropic targets (not file_id)`, `${param}.file`);
  if (!data.startsWith('data:')) throw bad(`${param}.file.file_data must be a base64 data: URL`, `${param}.file.file_data`);
  return { type: 'document', source: base64Source(data, `${param}.file.file_data`) };
}

/** User content (string or parts) -> Anthropic blocks. */
function userBlocks(content: unknown, param: string): Json[] {
  if (typeof content === 'string') return isBlank(content) ? [] : [textBlock(content)];
  if (content == null) return [];
  if (!Array.isArray(content)) throw bad(`${param} must be a string or an array of content parts`, param);
  const blocks: Json[] = [];
  for (let j = 0; j < content.length; j++) {
    const part = content[j];
    const p = `${param}[${j}]`;
    if (!isObject(part)) throw bad(`${p} must be an object`, p);
    switch (part.type) {
      case 'text': {
        const text = str(part.text) ?? '';
        if (!isBlank(text)) blocks.push(textBlock(text, part));
        break;
      }
      case 'image_url':
        blocks.push(imageBlock(part, p));
        break;
      case 'file':
        blocks.push(fileBlock(part, p));
        break;
      default:
        throw bad(`${p}.type '${describe(part.type)}' is not supported by anthropic targets`, `${p}.type`);
    }
  }
  return blocks;
}

/** Text-only content (system, developer, assistant, tool results): the text of string content or of text/refusal parts. */
function textParts(content: unknown, param: string): string[] {
  if (typeof content === 'string') return isBlank(content) ? [] : [content];
  if (content == null) return [];
  if (!Array.isArray(content)) throw bad(`${param} must be a string or an array of content parts`, param);
  const texts: string[] = [];
  for (const part of content) {
    if (!isObject(part)) continue;
    const text = part.type === 'refusal' ? str(part.refusal) : str(part.text);
    if (text && !isBlank(text)) texts.push(text);
  }
  return texts;
}

function parseArguments(args: unknown, param: string): Json {
  if (args == null || args === '') return {};
  if (isObject(args)) return args;
  if (typeof args !== 'string') throw bad(`${param} must be a JSON string`, param);
  let value: unknown;
  try {
    value = JSON.parse(args);
  } catch {
    throw bad(`${param} is not valid JSON`, param);
  }
  if (!isObject(value)) throw bad(`${param} must be a JSON object`, param);
  return value;
}

function toolUse(id: string, fn: unknown, param: string): Json {
  if (!isObject(fn) || typeof fn.name !== 'string' || !fn.name) throw bad(`${param}.name is missing`, `${param}.name`);
  return { type: 'tool_use', id: toolId(id), name: fn.name, input: parseArguments(fn.arguments, `${param}.arguments`) };
}

function toolResult(id: string, content: unknown, param: string): Json {
  const block: Json = { type: 'tool_result', tool_use_id: toolId(id) };
  if (typeof content === 'string') {
    if (content) block.content = content;
  } else if (content != null) {
    const texts = textParts(content, param);
    if (texts.length) block.content = texts.map((t) => textBlock(t));
  }
  return block;
}

function pushTurn(turns: Turn[], role: Turn['role'], blocks: Json[]): void {
  if (blocks.length === 0) return;
  let turn = turns[turns.length - 1];
  if (!turn || turn.role !== role) {
    turn = { role, content: [], results: 0 };
    turns.push(turn);
  }
  for (const b of blocks) {
    if (b.type === 'tool_result' && turn.results < turn.content.length) turn.content.splice(turn.results++, 0, b);
    else {
      if (b.type === 'tool_result') turn.results++;
      turn.content.push(b);
    }
  }
}

function numberOr(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function translateTools(body: Json): Json[] | undefined {
  const legacy = !Array.isArray(body.tools) && Array.isArray(body.functions);
  const list = legacy ? (body.functions as unknown[]) : body.tools;
  if (!Array.isArray(list) || list.length === 0) return undefined;
  const param = legacy ? 'functions' : 'tools';
  return list.map((t, j) => {
    const fn = legacy ? t : isObject(t) && t.type === 'function' ? t.function : undefined;
    if (!isObject(fn)) throw bad(`${param}[${j}]: only function tools are supported by anthropic targets`, `${param}[${j}]`);
    if (typeof fn.name !== 'string' || !fn.name) throw bad(`${param}[${j}].function.name is missing`, `${param}[${j}]`);
    const tool: Json = { name: fn.name };
    if (typeof fn.description === 'string' && fn.description) tool.description = fn.description;
    const params = fn.parameters;
    tool.input_schema = isObject(params) ? (params.type ? params : { type: 'object', ...params }) : { type: 'object', properties: {} };
    return tool;
  });
}

function translateToolChoice(body: Json): Json | undefined {
  const tc = body.tool_choice ?? body.function_call;
  let choice: Json | undefined;
  if (tc === 'auto') choice = { type: 'auto' };
  else if (tc === 'none') choice = { type: 'none' };
  else if (tc === 'required') choice = { type: 'any' };
  else if (isObject(tc)) {
    const name = isObject(tc.function) ? str(tc.function.name) : str(tc.name);
    choice = name ? { type: 'tool', name } : { type: 'auto' };
  }
  if (body.parallel_tool_calls === false && choice?.type !== 'none') {
    choice = { ...(choice ?? { type: 'auto' }), disable_parallel_tool_use: true };
  }
  return choice;
}

/**
 * `response_format` has no plain counterpart in the Messages API (structured
 * outputs there need a beta header), so JSON modes become an instruction
 * appended to the system prompt; `text` is the default and adds nothing.
 */
function responseFormatHint(rf: unknown): string | undefined {
  if (!isObject(rf)) return undefined;
  if (rf.type === 'json_object') return 'Respond with a single valid JSON object and nothing else.';
  if (rf.type === 'json_schema') {
    const js = isObject(rf.json_schema) ? rf.json_schema : {};
    const schema = js.schema === undefined ? '' : ` that conforms to this JSON schema: ${JSON.stringify(js.schema)}`;
    return `Respond with a single valid JSON object${schema}. Output only the JSON, nothing else.`;
  }
  return undefined;
}

function rejectUnsupported(body: Json): void {
  if (typeof body.n === 'number' && body.n > 1) throw bad('n > 1 is not supported by anthropic targets (one choice per request)', 'n');
  if (body.logprobs === true) throw bad('logprobs are not supported by anthropic targets', 'logprobs');
  if (body.audio != null || (Array.isArray(body.modalities) && body.modalities.includes('audio'))) {
    throw bad('audio output is not supported by anthropic targets', 'modalities');
  }
}

/** The Anthropic Messages body for an OpenAI chat request. Throws BadRequestError for what cannot be translated. */
export function toAnthropicBody(body: Json, model: string, stream: boolean): Json {
  rejectUnsupported(body);
  const messages = body.messages;
  if (!Array.isArray(messages)) throw bad('messages must be an array', 'messages');

  // System and developer messages are hoisted to the top-level `system`, in
  // order, wherever they appear (Anthropic has no mid-conversation system turn).
  const system: string[] = [];
  const turns: Turn[] = [];
  let lastFunctionCallId: string | undefined;

  for (let i = 0; i < messages.length; i++) {
    const m = messages[i];
    const p = `messages[${i}]`;
    if (!isObject(m)) throw bad(`${p} must be an object`, p);
    switch (m.role) {
      case 'system':
      case 'developer':
        system.push(...textParts(m.content, `${p}.content`));
        break;
      case 'user':
        pushTurn(turns, 'user', userBlocks(m.content, `${p}.content`));
        break;
      case 'assistant': {
        const blocks: Json[] = textParts(m.content, `${p}.content`).map((t) => textBlock(t));
        if (Array.isArray(m.tool_calls)) {
          m.tool_calls.forEach((tc, j) => {
            const q = `${p}.tool_calls[${j}]`;
            if (!isObject(tc) || typeof tc.id !== 'string' || !tc.id) throw bad(`${q}.id is missing`, `${q}.id`);
            blocks.push(toolUse(tc.id, tc.function, `${q}.function`));
          });
        } else if (isObject(m.function_call)) {
          lastFunctionCallId = `call_fn_${i}`;
          blocks.push(toolUse(lastFunctionCallId, m.function_call, `${p}.function_call`));
        }
        pushTurn(turns, 'assistant', blocks);
        break;
      }
      case 'tool': {
        const id = str(m.tool_call_id);
        if (!id) throw bad(`${p}.tool_call_id is missing`, `${p}.tool_call_id`);
        pushTurn(turns, 'user', [toolResult(id, m.content, `${p}.content`)]);
        break;
      }
      case 'function': {
        if (!lastFunctionCallId) throw bad(`${p}: a function message must follow an assistant function_call`, p);
        pushTurn(turns, 'user', [toolResult(lastFunctionCallId, m.content, `${p}.content`)]);
        lastFunctionCallId = undefined;
        break;
      }
      default:
        throw bad(`${p}.role '${describe(m.role)}' is not supported`, `${p}.role`);
    }
  }

  // A final assistant turn is a prefill, which must not end in whitespace.
  const last = turns[turns.length - 1];
  if (last?.role === 'assistant') {
    const block = last.content[last.content.length - 1];
    if (block?.type === 'text') block.text = (block.text as string).trimEnd();
  }

  const hint = responseFormatHint(body.response_format);
  if (hint) system.push(hint);

  const out: Json = {
    model,
    max_tokens: numberOr(body.max_completion_tokens) ?? numberOr(body.max_tokens) ?? DEFAULT_MAX_TOKENS,
  };
  if (system.length) out.system = system.join('\n\n');
  out.messages = turns.map((t) => ({ role: t.role, content: t.content }));

  const tools = translateTools(body);
  if (tools) {
    out.tools = tools;
    const choice = translateToolChoice(body);
    if (choice) out.tool_choice = choice;
  }

  const stop = body.stop;
  const stops = typeof stop === 'string' ? [stop] : Array.isArray(stop) ? stop : [];
  const sequences = stops.filter((s): s is string => typeof s === 'string' && !isBlank(s));
  if (sequences.length) out.stop_sequences = sequences;

  // OpenAI's temperature runs 0..2, Anthropic's 0..1. Values up to 1 mean
  // much the same on both, so they pass as they are and anything above is
  // clamped to 1 (rescaling would make every common setting, e.g. 0.7, colder).
  const temperature = numberOr(body.temperature);
  if (temperature !== undefined) out.temperature = Math.min(Math.max(temperature, 0), 1);
  // Recent Claude models refuse temperature and top_p together, and OpenAI
  // clients often send both: top_p goes only when temperature is absent.
  const topP = numberOr(body.top_p);
  if (topP !== undefined && temperature === undefined) out.top_p = topP;

  const user = str(body.user);
  if (user) out.metadata = { user_id: user };
  if (stream) out.stream = true;
  // Dropped on purpose (no Anthropic counterpart, harmless to ignore):
  // presence_penalty, frequency_penalty, logit_bias, seed, top_logprobs,
  // store, metadata, service_tier, prediction, reasoning_effort, verbosity.
  return out;
}
