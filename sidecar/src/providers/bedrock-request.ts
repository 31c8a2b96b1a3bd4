/**
 * OpenAI chat request -> Amazon Bedrock Converse request
 * (`POST /model/{modelId}/converse`, `/converse-stream`: the same body).
 *
 * Converse's rules that shape this code: system text is the top-level
 * `system` list; turns alternate user/assistant and start with the user's
 * (consecutive turns of one role are merged, a history that starts with the
 * assistant gets a user turn first); tool calls are `toolUse` blocks and their
 * results `toolResult` blocks of the next user turn; images and documents go
 * as base64 `bytes` with a format name; text blocks must not be empty.
 */
import { BadRequestError } from '../errors.ts';
import { isObject, str, type Json } from './common.ts';
import { CONVERSATION_START } from './anthropic-request.ts';
import { describe, functionTools, parseArguments, textParts, walkChatMessages } from './chat-turns.ts';

interface Turn {
  role: 'user' | 'assistant';
  content: Json[];
}

const IMAGE_FORMATS: Readonly<Record<string, string>> = { 'image/png': 'png', 'image/jpeg': 'jpeg', 'image/jpg': 'jpeg', 'image/gif': 'gif', 'image/webp': 'webp' };
const DOCUMENT_FORMATS: Readonly<Record<string, string>> = {
  'application/pdf': 'pdf',
  'text/csv': 'csv',
  'application/msword': 'doc',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'docx',
  'application/vnd.ms-excel': 'xls',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': 'xlsx',
  'text/html': 'html',
  'text/plain': 'txt',
  'text/markdown': 'md',
};

function bad(message: string, param: string): BadRequestError {
  return new BadRequestError(message, param);
}

function numberOr(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function dataURL(url: string, param: string): { mediaType: string; data: string } {
  const comma = url.indexOf(',');
  const header = url.startsWith('data:') && comma > 5 ? url.slice(5, comma) : '';
  if (!header.endsWith(';base64')) throw bad(`${param}: bedrock targets take images and documents as base64 data: URLs only`, param);
  return { mediaType: header.slice(0, -';base64'.length).toLowerCase(), data: url.slice(comma + 1) };
}

/** Converse document names: letters, digits, spaces, hyphens, parentheses and brackets; no two spaces in a row. */
function documentName(filename: string | undefined, n: number): string {
  const base = (filename ?? '').replace(/\.[A-Za-z0-9]+$/, '').replace(/[^A-Za-z0-9 ()[\]-]/g, '-').replace(/\s+/g, ' ').trim();
  return (base || `document-${n}`).slice(0, 200);
}

function userBlocks(content: unknown, param: string, docs: { n: number }): Json[] {
  if (typeof content === 'string') return content.trim() ? [{ text: content }] : [];
  if (content == null) return [];
  if (!Array.isArray(content)) throw bad(`${param} must be a string or an array of content parts`, param);
  const blocks: Json[] = [];
  content.forEach((part, j) => {
    const p = `${param}[${j}]`;
    if (!isObject(part)) throw bad(`${p} must be an object`, p);
    switch (part.type) {
      case 'text': {
        const text = str(part.text) ?? '';
        if (text.trim()) blocks.push({ text });
        break;
      }
      case 'image_url': {
        const img = part.image_url;
        const url = typeof img === 'string' ? img : isObject(img) ? str(img.url) : undefined;
        if (!url) throw bad(`${p}.image_url.url is missing`, `${p}.image_url`);
        const { mediaType, data } = dataURL(url, `${p}.image_url.url`);
        const format = IMAGE_FORMATS[mediaType];
        if (!format) throw bad(`${p}: bedrock takes png, jpeg, gif and webp images, not ${mediaType}`, `${p}.image_url.url`);
        blocks.push({ image: { format, source: { bytes: data } } });
        break;
      }
      case 'file': {
        const file = isObject(part.file) ? part.file : {};
        const fileData = str(file.file_data);
        if (!fileData) throw bad(`${p}: only inline file_data is supported by bedrock targets (not file_id)`, `${p}.file`);
        const { mediaType, data } = dataURL(fileData, `${p}.file.file_data`);
        const format = DOCUMENT_FORMATS[mediaType];
        if (!format) throw bad(`${p}: bedrock takes pdf, csv, doc, docx, xls, xlsx, html, txt and md documents, not ${mediaType}`, `${p}.file.file_data`);
        blocks.push({ document: { format, name: documentName(str(file.filename), ++docs.n), source: { bytes: data } } });
        break;
      }
      default:
        throw bad(`${p}.type '${describe(part.type)}' is not supported by bedrock targets`, `${p}.type`);
    }
  });
  return blocks;
}

function pushTurn(turns: Turn[], role: Turn['role'], blocks: Json[]): void {
  if (blocks.length === 0) return;
  const last = turns[turns.length - 1];
  if (last && last.role === role) {
    // Tool results lead a user turn, as Converse (and the models behind it) expect.
    if (role === 'user' && blocks.every((b) => b.toolResult !== undefined)) {
      const at = last.content.findIndex((b) => b.toolResult === undefined);
      last.content.splice(at === -1 ? last.content.length : at, 0, ...blocks);
    } else last.content.push(...blocks);
  } else turns.push({ role, content: blocks });
}

function toolUse(id: string, fn: unknown, param: string): Json {
  if (!isObject(fn) || typeof fn.name !== 'string' || !fn.name) throw bad(`${param}.name is missing`, `${param}.name`);
  return { toolUse: { toolUseId: id, name: fn.name, input: parseArguments(fn.arguments, `${param}.arguments`) } };
}

function toolResult(id: string, content: unknown, param: string): Json {
  const texts = typeof content === 'string' ? (content ? [content] : []) : textParts(content, param);
  return { toolResult: { toolUseId: id, content: texts.length ? texts.map((text) => ({ text })) : [{ text: '' }] } };
}

function translateTools(body: Json): Json[] | undefined {
  return functionTools(body, 'bedrock')?.map((fn) => {
    const spec: Json = { name: fn.name };
    if (fn.description) spec.description = fn.description;
    spec.inputSchema = { json: fn.parameters ?? { type: 'object', properties: {} } };
    return { toolSpec: spec };
  });
}

/** Converse's toolChoice; `none` has no counterpart: undefined then, and the caller leaves the tools out when it can. */
function translateToolChoice(body: Json): Json | undefined {
  const tc = body.tool_choice ?? body.function_call;
  if (tc === 'auto') return { auto: {} };
  if (tc === 'required') return { any: {} };
  if (isObject(tc)) {
    const name = isObject(tc.function) ? str(tc.function.name) : str(tc.name);
    if (name) return { tool: { name } };
  }
  return undefined;
}

function rejectUnsupported(body: Json): void {
  if (typeof body.n === 'number' && body.n > 1) throw bad('n > 1 is not supported by bedrock targets (one choice per request)', 'n');
  if (body.logprobs === true) throw bad('logprobs are not supported by bedrock targets', 'logprobs');
  if (body.audio != null || (Array.isArray(body.modalities) && body.modalities.includes('audio'))) {
    throw bad('audio output is not supported by bedrock targets', 'modalities');
  }
}

function responseFormatHint(rf: unknown): string | undefined {
  if (!isObject(rf)) return undefined;
  if (rf.type === 'json_object') return 'Respond with a single valid JSON object and nothing else.';
  if (rf.type === 'json_schema') {
    const schema = isObject(rf.json_schema) && rf.json_schema.schema !== undefined ? ` that conforms to this JSON schema: ${JSON.stringify(rf.json_schema.schema)}` : '';
    return `Respond with a single valid JSON object${schema}. Output only the JSON, nothing else.`;
  }
  return undefined;
}

/** The Converse body for an OpenAI chat request. Throws BadRequestError for what cannot be translated. */
export function toConverseBody(body: Json, defaultMaxTokens?: number): Json {
  rejectUnsupported(body);
  const messages = body.messages;
  if (!Array.isArray(messages)) throw bad('messages must be an array', 'messages');
  const system: string[] = [];
  const turns: Turn[] = [];
  const docs = { n: 0 };
  walkChatMessages(messages, {
    user: (content, param) => userBlocks(content, param, docs),
    text: (text) => ({ text }),
    toolUse,
    toolResult,
    push: (role, blocks) => pushTurn(turns, role, blocks),
  }, system);
  if (turns[0]?.role === 'assistant') turns.unshift({ role: 'user', content: [{ text: CONVERSATION_START }] });
  const hint = responseFormatHint(body.response_format);
  if (hint) system.push(hint);

  const out: Json = { messages: turns };
  if (system.length) out.system = system.map((text) => ({ text }));

  const inference: Json = {};
  const max = numberOr(body.max_completion_tokens) ?? numberOr(body.max_tokens) ?? defaultMaxTokens;
  if (max !== undefined) inference.maxTokens = max;
  // Bedrock's temperature runs 0..1 (as Anthropic's): OpenAI's values above 1 are clamped.
  const temperature = numberOr(body.temperature);
  if (temperature !== undefined) inference.temperature = Math.min(Math.max(temperature, 0), 1);
  const topP = numberOr(body.top_p);
  if (topP !== undefined) inference.topP = topP;
  const stop = body.stop;
  const stops = (typeof stop === 'string' ? [stop] : Array.isArray(stop) ? stop : []).filter((s): s is string => typeof s === 'string' && s.trim() !== '');
  if (stops.length) inference.stopSequences = stops;
  if (Object.keys(inference).length) out.inferenceConfig = inference;

  const tools = translateTools(body);
  const usesTools = turns.some((t) => t.content.some((b) => b.toolUse !== undefined || b.toolResult !== undefined));
  const tc = body.tool_choice ?? body.function_call;
  // tool_choice none: the tools are left out, unless the history holds tool blocks (Converse then needs toolConfig).
  if (tools && (tc !== 'none' || usesTools)) {
    const toolConfig: Json = { tools };
    const choice = tc === 'none' ? undefined : translateToolChoice(body);
    if (choice) toolConfig.toolChoice = choice;
    out.toolConfig = toolConfig;
  }
  // Dropped on purpose (no Converse counterpart): presence/frequency penalties, logit_bias, seed,
  // user, store, metadata, service_tier, reasoning_effort (model-specific: set it through
  // params.set additionalModelRequestFields), parallel_tool_calls.
  return out;
}
