/**
 * What in a Responses request a target reached through Chat Completions
 * cannot serve: features that live in OpenAI's servers (built-in tools,
 * background runs, conversations, stored prompts, stored files and items)
 * or that Chat has no way to say. `previous_response_id` is not one of
 * them: the glue expands it from the sidecar's store before translating.
 */
import { isObject, str, type Json } from '../../providers/common.ts';

/** `include` entries a chat-translated target can serve (the others need OpenAI's server state or tools). */
const SERVABLE_INCLUDES = new Set(['message.output_text.logprobs']);

const TOOL_CHOICE_STRINGS = new Set(['auto', 'none', 'required']);

/** The input item types toChat translates (reasoning items are dropped). */
const ITEM_TYPES = new Set(['message', 'function_call', 'function_call_output', 'reasoning']);

function toolProblem(tool: unknown): string | undefined {
  if (!isObject(tool)) return 'a tool that is not an object';
  const type = str(tool.type) ?? '';
  if (type === 'function') return typeof tool.name === 'string' && tool.name ? undefined : 'a function tool without a name';
  if (type === 'custom') return `custom tool '${str(tool.name) ?? ''}'`;
  return `OpenAI built-in tool '${type}'`;
}

function toolChoiceProblem(choice: unknown): string | undefined {
  if (choice === undefined || choice === null) return undefined;
  if (typeof choice === 'string') return TOOL_CHOICE_STRINGS.has(choice) ? undefined : `tool_choice '${choice}'`;
  if (isObject(choice) && choice.type === 'function' && typeof choice.name === 'string') return undefined;
  return `tool_choice of type '${isObject(choice) ? (str(choice.type) ?? '') : typeof choice}'`;
}

/** A content part toChat cannot express. */
function partProblem(part: unknown): string | undefined {
  if (!isObject(part)) return undefined; // a plain string part is text
  switch (part.type) {
    case 'input_text':
    case 'output_text':
    case 'refusal':
      return undefined;
    case 'input_image':
      if (typeof part.image_url === 'string' && part.image_url) return undefined;
      return part.file_id ? 'an input_image by file_id (a file stored at OpenAI)' : 'an input_image without image_url';
    case 'input_file':
      if (typeof part.file_data === 'string' && part.file_data) return undefined;
      if (part.file_id) return 'an input_file by file_id (a file stored at OpenAI)';
      if (part.file_url) return 'an input_file by file_url';
      return 'an input_file without file_data';
    default:
      return `a content part of type '${str(part.type) ?? ''}'`;
  }
}

function contentProblem(content: unknown): string | undefined {
  if (!Array.isArray(content)) return undefined;
  for (const part of content) {
    const p = partProblem(part);
    if (p) return p;
  }
  return undefined;
}

function itemProblem(item: unknown): string | undefined {
  if (!isObject(item)) return 'an input item that is not an object';
  // An easy input message has a role and no type.
  const type = item.type === undefined && typeof item.role === 'string' ? 'message' : (str(item.type) ?? '');
  if (!ITEM_TYPES.has(type)) return `an input item of type '${type}'`;
  if (type === 'message') return contentProblem(item.content);
  if (type === 'function_call_output' && Array.isArray(item.output)) {
    for (const part of item.output) {
      if (isObject(part) && part.type !== 'input_text') return `a function_call_output with a part of type '${str(part.type) ?? ''}'`;
    }
  }
  return undefined;
}

/** The first thing in the request a chat-translated target cannot serve, as a short phrase; undefined when it translates. */
export function unsupportedFeature(body: Json): string | undefined {
  if (body.background === true) return '`background: true`';
  if (body.conversation !== undefined && body.conversation !== null) return '`conversation` (a conversation stored at OpenAI)';
  if (body.prompt !== undefined && body.prompt !== null) return '`prompt` (a prompt template stored at OpenAI)';
  if (Array.isArray(body.tools)) {
    for (const tool of body.tools) {
      const p = toolProblem(tool);
      if (p) return p;
    }
  }
  const choice = toolChoiceProblem(body.tool_choice);
  if (choice) return choice;
  if (Array.isArray(body.include)) {
    for (const inc of body.include) {
      if (!SERVABLE_INCLUDES.has(String(inc))) return `include '${String(inc)}'`;
    }
  }
  if (Array.isArray(body.input)) {
    for (const item of body.input) {
      const p = itemProblem(item);
      if (p) return p;
    }
  }
  return undefined;
}
