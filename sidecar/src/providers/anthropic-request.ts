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
import { modelTraits, type ModelTraits } from './anthropic-models.ts';
import { describe, functionTools, isBlank, parseArguments, textParts, walkChatMessages } from './chat-turns.ts';

/** The user turn put before a history that starts with an assistant turn (Anthropic's first turn must be the user's). */
export const CONVERSATION_START = '(conversation start)';
/** The user turn of a request whose messages carry no content at all (Anthropic refuses empty content). */
export const EMPTY_MESSAGE = '(empty message)';

/** Thinking budgets (budget_tokens) for reasoning_effort on models that take a budget. */
export const THINKING_BUDGETS: Readonly<Record<string, number>> = Object.freeze({ low: 1024, medium: 4096, high: 16384 });
/** Anthropic's smallest budget_tokens. */
const MIN_BUDGET = 1024;

interface Turn {
  role: 'user' | 'assistant';
  content: Json[];
  /** How many tool_result blocks lead `content` (they must come first in a user turn). */
  results: number;
}

function bad(message: string, param: string): BadRequestError {
  return new BadRequestError(message, param);
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

/** What the user blocks depend on: the targets' name in refusals, and whether the endpoint takes image URLs. */
interface BlockOptions {
  targets: string;
  urlImages: boolean;
}

function imageBlock(part: Json, param: string, opts: BlockOptions): Json {
  const img = part.image_url;
  const url = typeof img === 'string' ? img : isObject(img) ? str(img.url) : undefined;
  if (!url) throw bad(`${param}.image_url.url is missing`, `${param}.image_url`);
  if (url.startsWith('data:')) return { type: 'image', source: base64Source(url, `${param}.image_url.url`) };
  if (url.startsWith('https://') || url.startsWith('http://')) {
    if (!opts.urlImages) throw bad(`${param}.image_url.url: ${opts.targets} targets take images as base64 data: URLs only`, `${param}.image_url.url`);
    return { type: 'image', source: { type: 'url', url } };
  }
  throw bad(`${param}.image_url.url must be an http(s) or data: URL`, `${param}.image_url.url`);
}

/** OpenAI `file` parts carrying inline data (PDFs) -> Anthropic document blocks. */
function fileBlock(part: Json, param: string, targets: string): Json {
  const file = isObject(part.file) ? part.file : {};
  const data = str(file.file_data);
  if (!data) throw bad(`${param}: only inline file_data is supported by ${targets} targets (not file_id)`, `${param}.file`);
  if (!data.startsWith('data:')) throw bad(`${param}.file.file_data must be a base64 data: URL`, `${param}.file.file_data`);
  return { type: 'document', source: base64Source(data, `${param}.file.file_data`) };
}

/** User content (string or parts) -> Anthropic blocks. */
function userBlocks(content: unknown, param: string, opts: BlockOptions): Json[] {
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
        blocks.push(imageBlock(part, p, opts));
        break;
      case 'file':
        blocks.push(fileBlock(part, p, opts.targets));
        break;
      default:
        throw bad(`${p}.type '${describe(part.type)}' is not supported by ${opts.targets} targets`, `${p}.type`);
    }
  }
  return blocks;
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

function translateTools(body: Json, targets: string): Json[] | undefined {
  return functionTools(body, targets)?.map((fn) => {
    const tool: Json = { name: fn.name };
    if (fn.description) tool.description = fn.description;
    const params = fn.parameters;
    tool.input_schema = params ? (params.type ? params : { type: 'object', ...params }) : { type: 'object', properties: {} };
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
  // A legacy function_call answer holds one call: parallel calls are off for `functions`.
  if ((body.parallel_tool_calls === false || usesLegacyFunctions(body)) && choice?.type !== 'none') {
    choice = { ...(choice ?? { type: 'auto' }), disable_parallel_tool_use: true };
  }
  return choice;
}

/** JSON Schema keywords Anthropic's structured outputs refuse (the schema is then sent as an instruction instead). */
const UNSUPPORTED_SCHEMA_KEYWORDS = new Set([
  'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf',
  'minLength', 'maxLength', 'minItems', 'maxItems', 'uniqueItems', 'minProperties', 'maxProperties',
  'patternProperties', 'if', 'then', 'else', 'not', 'dependentSchemas', 'dependentRequired',
]);

/**
 * True when structured outputs take this schema as it is: every object
 * closed (`additionalProperties: false`, as OpenAI's strict mode has it too)
 * and none of the keywords Anthropic refuses. Depth-limited.
 */
export function structuredOutputsTake(schema: unknown, depth = 0): boolean {
  if (depth > 32) return false;
  if (Array.isArray(schema)) return schema.every((s) => structuredOutputsTake(s, depth + 1));
  if (!isObject(schema)) return true;
  const type = schema.type;
  if ((type === 'object' || (Array.isArray(type) && type.includes('object'))) && schema.additionalProperties !== false) return false;
  for (const k in schema) {
    if (UNSUPPORTED_SCHEMA_KEYWORDS.has(k)) return false;
    const v = schema[k];
    if (k === 'properties' || k === '$defs' || k === 'definitions') {
      if (!isObject(v) || !Object.values(v).every((s) => structuredOutputsTake(s, depth + 1))) return false;
    } else if (typeof v === 'object' && v !== null && k !== 'enum' && k !== 'const' && k !== 'default' && k !== 'examples' && k !== 'required') {
      if (!structuredOutputsTake(v, depth + 1)) return false;
    }
  }
  return true;
}

/**
 * `response_format: json_schema` -> Anthropic's structured outputs
 * (`output_config.format`) on models that have them, when the schema fits.
 */
function structuredFormat(rf: unknown, traits: ModelTraits): Json | undefined {
  if (!traits.structuredOutputs || !isObject(rf) || rf.type !== 'json_schema' || !isObject(rf.json_schema)) return undefined;
  const schema = rf.json_schema.schema;
  if (!isObject(schema) || !structuredOutputsTake(schema)) return undefined;
  return { type: 'json_schema', schema };
}

/**
 * Otherwise JSON modes become an instruction appended to the system
 * prompt; `text` is the default and adds nothing.
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

function rejectUnsupported(body: Json, targets: string): void {
  if (typeof body.n === 'number' && body.n > 1) throw bad(`n > 1 is not supported by ${targets} targets (one choice per request)`, 'n');
  if (body.logprobs === true) throw bad(`logprobs are not supported by ${targets} targets`, 'logprobs');
  if (body.audio != null || (Array.isArray(body.modalities) && body.modalities.includes('audio'))) {
    throw bad(`audio output is not supported by ${targets} targets`, 'modalities');
  }
}

/** Whether a request uses the legacy `functions` API (answers then come back as `function_call`). */
export function usesLegacyFunctions(body: Json): boolean {
  return !Array.isArray(body.tools) && Array.isArray(body.functions) && body.functions.length > 0;
}

/** The client's stop sequences Anthropic refuses (whitespace only): the adapter cuts the output at them itself. */
export function emulatedStops(body: Json): string[] {
  const stop = body.stop;
  if (typeof stop === 'string') return stop !== '' && isBlank(stop) ? [stop] : [];
  if (!Array.isArray(stop)) return [];
  return stop.filter((s): s is string => typeof s === 'string' && s !== '' && isBlank(s));
}

/** Options of one Anthropic translation. */
export interface AnthropicBuild {
  model: string;
  stream: boolean;
  /** The target's maxTokens: max_tokens when the client sets none. */
  maxTokens?: number | undefined;
  /** The provider named in refusals (`… is not supported by <targets> targets`): anthropic unless set. */
  targets?: string;
  /** Whether the endpoint fetches http(s) image URLs (`source: {type: url}`); else they are refused. Default true. */
  urlImages?: boolean;
  /** false: never output_config.format (JSON modes go as the system instruction), whatever the model's traits. */
  structuredOutputs?: boolean;
}

/**
 * Makes the turns a valid Anthropic conversation (README, "Anthropic
 * targets"): a final assistant prefill loses its trailing whitespace (and
 * goes when nothing is left); a request with no turn sends its system text
 * as the user turn, or EMPTY_MESSAGE; a history that starts with an
 * assistant turn gets a CONVERSATION_START user turn before it.
 */
function normalise(turns: Turn[], system: string[], hadMessages: boolean): void {
  const last = turns[turns.length - 1];
  if (last?.role === 'assistant') {
    const block = last.content[last.content.length - 1];
    if (block?.type === 'text') {
      block.text = (block.text as string).trimEnd();
      if (block.text === '') last.content.pop();
      if (last.content.length === 0) turns.pop();
    }
  }
  if (turns.length === 0) {
    if (!hadMessages) return; // no messages at all: Anthropic's own 400 says so
    const text = system.length ? system.splice(0).join('\n\n') : EMPTY_MESSAGE;
    turns.push({ role: 'user', content: [textBlock(text)], results: 0 });
  } else if (turns[0]!.role === 'assistant') {
    turns.unshift({ role: 'user', content: [textBlock(CONVERSATION_START)], results: 0 });
  }
}

/**
 * The thinking Anthropic can do for this request, or undefined. Skipped
 * where Anthropic refuses thinking: a forced tool choice, an assistant
 * prefill, and a tool loop whose last assistant turn (with its tool calls)
 * came from elsewhere, without the thinking block Anthropic wants back.
 */
function thinkingFor(body: Json, traits: ModelTraits, turns: Turn[], choice: Json | undefined): { effort: string } | undefined {
  const effort = body.reasoning_effort;
  if (traits.thinking === 'none' || typeof effort !== 'string' || !Object.hasOwn(THINKING_BUDGETS, effort)) return undefined;
  if (choice && (choice.type === 'any' || choice.type === 'tool')) return undefined;
  if (turns[turns.length - 1]?.role === 'assistant') return undefined;
  for (let i = turns.length - 1; i >= 0; i--) {
    const t = turns[i]!;
    if (t.role === 'assistant') {
      if (t.content.some((b) => b.type === 'tool_use')) return undefined;
      break;
    }
  }
  return { effort };
}

/** The Anthropic Messages body for an OpenAI chat request. Throws BadRequestError for what cannot be translated. */
export function toAnthropicBody(body: Json, build: AnthropicBuild): Json {
  const targets = build.targets ?? 'anthropic';
  rejectUnsupported(body, targets);
  const messages = body.messages;
  if (!Array.isArray(messages)) throw bad('messages must be an array', 'messages');
  const traits = build.structuredOutputs === false ? { ...modelTraits(build.model), structuredOutputs: false } : modelTraits(build.model);
  const blockOptions: BlockOptions = { targets, urlImages: build.urlImages ?? true };

  // System and developer messages are hoisted to the top-level `system`, in
  // order, wherever they appear (Anthropic has no mid-conversation system turn).
  const system: string[] = [];
  const turns: Turn[] = [];
  walkChatMessages(messages, {
    user: (content, param) => userBlocks(content, param, blockOptions),
    text: (t) => textBlock(t),
    toolUse,
    toolResult,
    push: (role, blocks) => pushTurn(turns, role, blocks),
  }, system);
  normalise(turns, system, messages.length > 0);

  const format = structuredFormat(body.response_format, traits);
  const hint = format ? undefined : responseFormatHint(body.response_format);
  if (hint) system.push(hint);

  const tools = translateTools(body, targets);
  const choice = tools ? translateToolChoice(body) : undefined;
  const thinking = thinkingFor(body, traits, turns, choice);

  let maxTokens = numberOr(body.max_completion_tokens) ?? numberOr(body.max_tokens) ?? build.maxTokens ?? traits.maxOutput;
  const out: Json = { model: build.model, max_tokens: maxTokens };
  if (system.length) out.system = system.join('\n\n');
  out.messages = turns.map((t) => ({ role: t.role, content: t.content }));

  if (tools) {
    out.tools = tools;
    if (choice) out.tool_choice = choice;
  }

  const stop = body.stop;
  const stops = typeof stop === 'string' ? [stop] : Array.isArray(stop) ? stop : [];
  // Whitespace-only sequences are refused by Anthropic: the response side cuts at them (emulatedStops).
  const sequences = stops.filter((s): s is string => typeof s === 'string' && !isBlank(s));
  if (sequences.length) out.stop_sequences = sequences;

  let outputConfig: Json | undefined = format ? { format } : undefined;
  if (thinking && traits.thinking === 'adaptive') {
    out.thinking = { type: 'adaptive' };
    outputConfig = { ...outputConfig, effort: thinking.effort };
  } else if (thinking) {
    // budget_tokens must be below max_tokens: a small max_tokens grows by the
    // budget (up to the model's limit), so the answer keeps the room asked for.
    let budget = THINKING_BUDGETS[thinking.effort]!;
    if (maxTokens <= budget) maxTokens = out.max_tokens = Math.min(maxTokens + budget, Math.max(traits.maxOutput, maxTokens));
    budget = Math.min(budget, maxTokens - 1);
    if (budget >= MIN_BUDGET) out.thinking = { type: 'enabled', budget_tokens: budget };
  }
  if (outputConfig) out.output_config = outputConfig;

  // OpenAI's temperature runs 0..2, Anthropic's 0..1. Values up to 1 mean
  // much the same on both, so they pass as they are and anything above is
  // clamped to 1 (rescaling would make every common setting, e.g. 0.7, colder).
  // With thinking, Anthropic takes no temperature and top_p only from 0.95.
  const temperature = numberOr(body.temperature);
  if (temperature !== undefined && !out.thinking) out.temperature = Math.min(Math.max(temperature, 0), 1);
  // Recent Claude models refuse temperature and top_p together, and OpenAI
  // clients often send both: top_p goes only when temperature is absent.
  const topP = numberOr(body.top_p);
  if (topP !== undefined && temperature === undefined && (!out.thinking || topP >= 0.95)) out.top_p = topP;

  const user = str(body.user);
  if (user) out.metadata = { user_id: user };
  if (build.stream) out.stream = true;
  // Dropped on purpose (no Anthropic counterpart, harmless to ignore):
  // presence_penalty, frequency_penalty, logit_bias, seed, top_logprobs,
  // store, metadata, service_tier, prediction, verbosity; reasoning_effort
  // on models without thinking, and none/minimal.
  return out;
}

/** What the response side needs from the client's request. */
export interface ResponseShape {
  /** Tool calls come back as a legacy `function_call` (finish_reason `function_call`). */
  legacy: boolean;
  /** Stop sequences the output is cut at here (emulatedStops). */
  stops: string[];
}

export const PLAIN_SHAPE: Readonly<ResponseShape> = Object.freeze({ legacy: false, stops: [] });

export function responseShape(body: Json): ResponseShape {
  const legacy = usesLegacyFunctions(body);
  const stops = body.stop === undefined || body.stop === null ? [] : emulatedStops(body);
  return legacy || stops.length ? { legacy, stops } : PLAIN_SHAPE;
}
