/**
 * OpenAI chat request -> Gemini `generateContent` request (Google AI Studio's
 * v1beta API; Vertex AI takes the same body).
 *
 * Gemini's rules that shape this code: system and developer text is the
 * top-level `systemInstruction`; turns are `user` and `model`, consecutive
 * turns of one role are merged into one; a tool call is a `functionCall`
 * part of a model turn and its result a `functionResponse` part (which names
 * the function, not only the call id) of the next user turn; images and PDFs
 * go inline (`inlineData`), as Gemini fetches no URL given in a request.
 */
import { BadRequestError } from '../errors.ts';
import { isObject, str, type Json } from './common.ts';
import { describe, functionTools, parseArguments, textParts } from './chat-turns.ts';

interface Turn {
  role: 'user' | 'model';
  parts: Json[];
}

/**
 * The thought signature Gemini documents for function calls it did not make itself (a history
 * from another model or target): Gemini 3 refuses a functionCall part without a signature.
 */
export const FOREIGN_THOUGHT_SIGNATURE = 'skip_thought_signature_validator';

/** Thinking budgets (Gemini 2.5) and levels (Gemini 3) for reasoning_effort. */
export const GEMINI_THINKING_BUDGETS: Readonly<Record<string, number>> = Object.freeze({ minimal: 512, low: 1024, medium: 8192, high: 24576 });

function bad(message: string, param: string): BadRequestError {
  return new BadRequestError(message, param);
}

function numberOr(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** `data:<media type>;base64,<data>` -> Gemini's inlineData part. */
function inlineData(url: string, param: string, targets: string): Json {
  const comma = url.indexOf(',');
  const header = url.startsWith('data:') && comma > 5 ? url.slice(5, comma) : '';
  if (!header.endsWith(';base64')) throw bad(`${param}: ${targets} targets take images and files as base64 data: URLs only`, param);
  return { inlineData: { mimeType: header.slice(0, -';base64'.length), data: url.slice(comma + 1) } };
}

function userParts(content: unknown, param: string, targets: string): Json[] {
  if (typeof content === 'string') return content === '' ? [] : [{ text: content }];
  if (content == null) return [];
  if (!Array.isArray(content)) throw bad(`${param} must be a string or an array of content parts`, param);
  const parts: Json[] = [];
  content.forEach((part, j) => {
    const p = `${param}[${j}]`;
    if (!isObject(part)) throw bad(`${p} must be an object`, p);
    switch (part.type) {
      case 'text': {
        const text = str(part.text) ?? '';
        if (text) parts.push({ text });
        break;
      }
      case 'image_url': {
        const img = part.image_url;
        const url = typeof img === 'string' ? img : isObject(img) ? str(img.url) : undefined;
        if (!url) throw bad(`${p}.image_url.url is missing`, `${p}.image_url`);
        parts.push(inlineData(url, `${p}.image_url.url`, targets));
        break;
      }
      case 'file': {
        const data = isObject(part.file) ? str(part.file.file_data) : undefined;
        if (!data) throw bad(`${p}: only inline file_data is supported by ${targets} targets (not file_id)`, `${p}.file`);
        parts.push(inlineData(data, `${p}.file.file_data`, targets));
        break;
      }
      default:
        throw bad(`${p}.type '${describe(part.type)}' is not supported by ${targets} targets`, `${p}.type`);
    }
  });
  return parts;
}

function pushTurn(turns: Turn[], role: Turn['role'], parts: Json[]): void {
  if (parts.length === 0) return;
  const last = turns[turns.length - 1];
  if (last && last.role === role) last.parts.push(...parts);
  else turns.push({ role, parts });
}

/** A tool message's content as Gemini's functionResponse.response (an object): JSON objects as they are, anything else under `result`. */
function functionResponse(content: unknown, param: string): Json {
  const text = typeof content === 'string' ? content : textParts(content, param).join('\n');
  try {
    const v: unknown = JSON.parse(text);
    if (isObject(v)) return v;
  } catch {
    // not JSON: kept as text
  }
  return { result: text };
}

function translateTools(body: Json, targets: string): Json[] | undefined {
  const tools = functionTools(body, targets);
  if (!tools) return undefined;
  const declarations = tools.map((fn) => {
    const decl: Json = { name: fn.name };
    if (fn.description) decl.description = fn.description;
    // parametersJsonSchema takes JSON Schema as it is (`parameters` takes only an OpenAPI subset).
    if (fn.parameters) decl.parametersJsonSchema = fn.parameters;
    return decl;
  });
  return [{ functionDeclarations: declarations }];
}

function translateToolChoice(body: Json): Json | undefined {
  const tc = body.tool_choice ?? body.function_call;
  if (tc === 'auto') return { functionCallingConfig: { mode: 'AUTO' } };
  if (tc === 'none') return { functionCallingConfig: { mode: 'NONE' } };
  if (tc === 'required') return { functionCallingConfig: { mode: 'ANY' } };
  if (isObject(tc)) {
    const name = isObject(tc.function) ? str(tc.function.name) : str(tc.name);
    if (name) return { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: [name] } };
  }
  return undefined;
}

function rejectUnsupported(body: Json, targets: string): void {
  if (body.logprobs === true) throw bad(`logprobs are not supported by ${targets} targets`, 'logprobs');
  if (body.audio != null || (Array.isArray(body.modalities) && body.modalities.includes('audio'))) {
    throw bad(`audio output is not supported by ${targets} targets`, 'modalities');
  }
  if (body.stream === true && typeof body.n === 'number' && body.n > 1) throw bad(`n > 1 is not supported by ${targets} targets when streaming`, 'n');
}

/** Whether a Gemini model takes thinkingLevel (Gemini 3 and later) rather than thinkingBudget. */
function takesThinkingLevel(model: string): boolean {
  const m = /^gemini-(\d+)/.exec(model);
  return m !== null && Number(m[1]) >= 3;
}

function generationConfig(body: Json, model: string): Json | undefined {
  const cfg: Json = {};
  const temperature = numberOr(body.temperature);
  if (temperature !== undefined) cfg.temperature = temperature;
  const topP = numberOr(body.top_p);
  if (topP !== undefined) cfg.topP = topP;
  const max = numberOr(body.max_completion_tokens) ?? numberOr(body.max_tokens);
  if (max !== undefined) cfg.maxOutputTokens = max;
  const stop = body.stop;
  const stops = (typeof stop === 'string' ? [stop] : Array.isArray(stop) ? stop : []).filter((s): s is string => typeof s === 'string' && s !== '');
  if (stops.length) cfg.stopSequences = stops;
  if (typeof body.n === 'number' && body.n > 1) cfg.candidateCount = body.n;
  const seed = numberOr(body.seed);
  if (seed !== undefined) cfg.seed = seed;
  const presence = numberOr(body.presence_penalty);
  if (presence !== undefined) cfg.presencePenalty = presence;
  const frequency = numberOr(body.frequency_penalty);
  if (frequency !== undefined) cfg.frequencyPenalty = frequency;
  const rf = body.response_format;
  if (isObject(rf) && (rf.type === 'json_object' || rf.type === 'json_schema')) {
    cfg.responseMimeType = 'application/json';
    const schema = rf.type === 'json_schema' && isObject(rf.json_schema) ? rf.json_schema.schema : undefined;
    if (isObject(schema)) cfg.responseJsonSchema = schema;
  }
  const effort = body.reasoning_effort;
  if (typeof effort === 'string' && Object.hasOwn(GEMINI_THINKING_BUDGETS, effort)) {
    cfg.thinkingConfig = takesThinkingLevel(model) ? { thinkingLevel: effort === 'minimal' || effort === 'low' ? 'low' : 'high' } : { thinkingBudget: GEMINI_THINKING_BUDGETS[effort] };
  }
  return Object.keys(cfg).length ? cfg : undefined;
}

/**
 * The Gemini generateContent body for an OpenAI chat request. Throws BadRequestError for what
 * cannot be translated, naming `targets` (gemini, or vertex for Gemini on Vertex AI).
 */
export function toGeminiBody(body: Json, model: string, targets = 'gemini'): Json {
  rejectUnsupported(body, targets);
  const messages = body.messages;
  if (!Array.isArray(messages)) throw bad('messages must be an array', 'messages');
  const system: string[] = [];
  const turns: Turn[] = [];
  /** tool_call_id -> the function's name: a functionResponse names its function. */
  const callNames = new Map<string, string>();
  let lastFunctionCall: string | undefined;

  messages.forEach((m, i) => {
    const p = `messages[${i}]`;
    if (!isObject(m)) throw bad(`${p} must be an object`, p);
    switch (m.role) {
      case 'system':
      case 'developer':
        system.push(...textParts(m.content, `${p}.content`));
        break;
      case 'user':
        pushTurn(turns, 'user', userParts(m.content, `${p}.content`, targets));
        break;
      case 'assistant': {
        const parts: Json[] = textParts(m.content, `${p}.content`).map((text) => ({ text }));
        const calls: { id: string | undefined; fn: unknown; param: string }[] = [];
        if (Array.isArray(m.tool_calls)) {
          m.tool_calls.forEach((tc, j) => {
            const q = `${p}.tool_calls[${j}]`;
            if (!isObject(tc) || typeof tc.id !== 'string' || !tc.id) throw bad(`${q}.id is missing`, `${q}.id`);
            calls.push({ id: tc.id, fn: tc.function, param: `${q}.function` });
          });
        } else if (isObject(m.function_call)) {
          calls.push({ id: undefined, fn: m.function_call, param: `${p}.function_call` });
        }
        calls.forEach((c, j) => {
          if (!isObject(c.fn) || typeof c.fn.name !== 'string' || !c.fn.name) throw bad(`${c.param}.name is missing`, `${c.param}.name`);
          const call: Json = { name: c.fn.name, args: parseArguments(c.fn.arguments, `${c.param}.arguments`) };
          if (c.id) {
            call.id = c.id;
            callNames.set(c.id, c.fn.name);
          } else lastFunctionCall = c.fn.name;
          const part: Json = { functionCall: call };
          if (j === 0) part.thoughtSignature = FOREIGN_THOUGHT_SIGNATURE;
          parts.push(part);
        });
        pushTurn(turns, 'model', parts);
        break;
      }
      case 'tool': {
        const id = str(m.tool_call_id);
        if (!id) throw bad(`${p}.tool_call_id is missing`, `${p}.tool_call_id`);
        const name = callNames.get(id);
        if (!name) throw bad(`${p}.tool_call_id '${describe(id)}' answers no tool call of an earlier assistant message`, `${p}.tool_call_id`);
        pushTurn(turns, 'user', [{ functionResponse: { id, name, response: functionResponse(m.content, `${p}.content`) } }]);
        break;
      }
      case 'function': {
        const name = str(m.name) ?? lastFunctionCall;
        if (!name) throw bad(`${p}: a function message must follow an assistant function_call`, p);
        pushTurn(turns, 'user', [{ functionResponse: { name, response: functionResponse(m.content, `${p}.content`) } }]);
        lastFunctionCall = undefined;
        break;
      }
      default:
        throw bad(`${p}.role '${describe(m.role)}' is not supported`, `${p}.role`);
    }
  });

  const out: Json = {};
  if (system.length) out.systemInstruction = { parts: [{ text: system.join('\n\n') }] };
  out.contents = turns;
  const tools = translateTools(body, targets);
  if (tools) {
    out.tools = tools;
    const choice = translateToolChoice(body);
    if (choice) out.toolConfig = choice;
  }
  const cfg = generationConfig(body, model);
  if (cfg) out.generationConfig = cfg;
  // Dropped on purpose (no Gemini counterpart): logit_bias, top_logprobs, user, store, metadata,
  // service_tier, prediction, verbosity, parallel_tool_calls, stream_options.
  return out;
}

/** The model's path segment: `models/` is Gemini's own prefix, taken off when the target names it. */
export function geminiModelPath(model: string): string {
  return encodeURIComponent(model.startsWith('models/') ? model.slice('models/'.length) : model);
}
