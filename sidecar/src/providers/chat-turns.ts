/**
 * The walk of an OpenAI chat request's `messages` into a conversation of
 * user and assistant turns with a separate system prompt: what the
 * Anthropic Messages body (anthropic-request.ts) and Bedrock's Converse body
 * (bedrock-request.ts) are both made of. The walk decides what each message
 * becomes; the provider's `TurnBlocks` say how a block of it is written.
 *
 * - system and developer messages: their text, in order, to `system`
 *   (neither API has a system turn mid-conversation);
 * - user: the provider's blocks of its content;
 * - assistant: its text, then its tool calls (a legacy `function_call`
 *   gets the id `call_fn_<index>`, which the `function` message after it
 *   answers);
 * - tool and function: a tool result in a user turn.
 *
 * Throws BadRequestError naming the message's path for what cannot be
 * walked (a message that is not an object, a tool call without id or name,
 * a function message without a function call before it, an unknown role).
 * Also the readers of message parts every chat translation shares (gemini
 * too): textParts, parseArguments, describe, functionTools.
 */
import { BadRequestError } from '../errors.ts';
import { isObject, str, type Json } from './common.ts';

/** How one provider writes the blocks of a turn, and adds them to its conversation. */
export interface TurnBlocks {
  /** The blocks of a user message's content. */
  user(content: unknown, param: string): Json[];
  /** A text block of an assistant message. */
  text(text: string): Json;
  /** A tool call of an assistant message: `fn` is its `{name, arguments}` (checked by the provider). */
  toolUse(id: string, fn: unknown, param: string): Json;
  /** The result of the tool call `id`. */
  toolResult(id: string, content: unknown, param: string): Json;
  /** Adds blocks as a turn of `role` (merged into the last turn of that role, as each API wants it). */
  push(role: 'user' | 'assistant', blocks: Json[]): void;
}

function bad(message: string, param: string): BadRequestError {
  return new BadRequestError(message, param);
}

/** A value as an error message quotes it: at most 40 characters. */
export function describe(v: unknown): string {
  const s = typeof v === 'string' ? v : JSON.stringify(v) ?? String(v);
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}

export function isBlank(s: string): boolean {
  return s.trim().length === 0;
}

/** Text-only content (system, developer, assistant, tool results): the text of string content or of text/refusal parts. */
export function textParts(content: unknown, param: string): string[] {
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

/** A tool call's arguments (a JSON string, or an object as some clients send) as an object. */
export function parseArguments(args: unknown, param: string): Json {
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

/** A function tool of a chat request, as every provider's translation reads it. */
export interface FunctionTool {
  name: string;
  /** Present when the client gave a non-empty one. */
  description?: string;
  /** The JSON Schema of its arguments, when the client gave an object. */
  parameters?: Json;
}

/**
 * The function tools of a chat request (`tools`, or the legacy `functions`), undefined when it has
 * none. Refuses a tool that is not a function, or one without a name, for `provider`'s targets.
 */
export function functionTools(body: Json, provider: string): FunctionTool[] | undefined {
  const legacy = !Array.isArray(body.tools) && Array.isArray(body.functions);
  const list = legacy ? (body.functions as unknown[]) : body.tools;
  if (!Array.isArray(list) || list.length === 0) return undefined;
  const param = legacy ? 'functions' : 'tools';
  return list.map((t, j) => {
    const fn = legacy ? t : isObject(t) && t.type === 'function' ? t.function : undefined;
    if (!isObject(fn)) throw bad(`${param}[${j}]: only function tools are supported by ${provider} targets`, `${param}[${j}]`);
    if (typeof fn.name !== 'string' || !fn.name) throw bad(`${param}[${j}].function.name is missing`, `${param}[${j}]`);
    const tool: FunctionTool = { name: fn.name };
    if (typeof fn.description === 'string' && fn.description) tool.description = fn.description;
    if (isObject(fn.parameters)) tool.parameters = fn.parameters;
    return tool;
  });
}

/** Walks `messages` into `blocks`' turns; system and developer text goes to `system`, in order. */
export function walkChatMessages(messages: readonly unknown[], blocks: TurnBlocks, system: string[]): void {
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
        blocks.push('user', blocks.user(m.content, `${p}.content`));
        break;
      case 'assistant': {
        const out: Json[] = textParts(m.content, `${p}.content`).map((t) => blocks.text(t));
        if (Array.isArray(m.tool_calls)) {
          m.tool_calls.forEach((tc, j) => {
            const q = `${p}.tool_calls[${j}]`;
            if (!isObject(tc) || typeof tc.id !== 'string' || !tc.id) throw bad(`${q}.id is missing`, `${q}.id`);
            out.push(blocks.toolUse(tc.id, tc.function, `${q}.function`));
          });
        } else if (isObject(m.function_call)) {
          lastFunctionCallId = `call_fn_${i}`;
          out.push(blocks.toolUse(lastFunctionCallId, m.function_call, `${p}.function_call`));
        }
        blocks.push('assistant', out);
        break;
      }
      case 'tool': {
        const id = str(m.tool_call_id);
        if (!id) throw bad(`${p}.tool_call_id is missing`, `${p}.tool_call_id`);
        blocks.push('user', [blocks.toolResult(id, m.content, `${p}.content`)]);
        break;
      }
      case 'function':
        if (!lastFunctionCallId) throw bad(`${p}: a function message must follow an assistant function_call`, p);
        blocks.push('user', [blocks.toolResult(lastFunctionCallId, m.content, `${p}.content`)]);
        lastFunctionCallId = undefined;
        break;
      default:
        throw bad(`${p}.role '${describe(m.role)}' is not supported`, `${p}.role`);
    }
  }
}
