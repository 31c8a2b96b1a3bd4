/**
 * What in a Messages request a target reached through Chat Completions
 * cannot serve (SurfaceTranslation.unsupported). Such a request goes only to
 * anthropic targets (natively); on a chat-translated target it would lose
 * its meaning, not just a detail:
 *
 *   - Anthropic's server tools (any tool whose `type` is not `custom`:
 *     web_search_*, web_fetch_*, code_execution_*, bash_*, text_editor_*,
 *     computer_*, memory_*, tool_search_*, browser_*), `mcp_servers`,
 *     `container`, `context_management`, `compaction`;
 *   - content only Anthropic can read: `search_result` blocks, server-tool
 *     blocks (server_tool_use, *_tool_result), container uploads, tool
 *     references, files by id (image/document `file` sources), PDFs by URL,
 *     documents with citations enabled.
 *
 * Dropped rather than refused (the answer means the same without them):
 * `cache_control`, thinking and redacted_thinking blocks of past turns,
 * `citations` on text blocks, `service_tier`, `inference_geo`, `speed`, `top_k`.
 */
import { isObject, str, type Json } from '../../providers/common.ts';

const REFUSED_FIELDS = ['container', 'mcp_servers', 'context_management', 'compaction'] as const;

/** Block types a Chat-translated message can carry (what toChat reads). */
const TRANSLATED_BLOCKS = new Set(['text', 'image', 'document', 'tool_use', 'tool_result', 'thinking', 'redacted_thinking']);

function present(v: unknown): boolean {
  return v !== undefined && v !== null && !(Array.isArray(v) && v.length === 0);
}

function imageProblem(block: Json): string | undefined {
  const source = isObject(block.source) ? block.source : {};
  if (source.type === 'base64' || source.type === 'url') return undefined;
  return `image source '${str(source.type) ?? 'missing'}' (files by id are Anthropic's own)`;
}

function documentProblem(block: Json): string | undefined {
  if (isObject(block.citations) && block.citations.enabled === true) return 'documents with citations enabled';
  const source = isObject(block.source) ? block.source : {};
  if (source.type === 'base64' || source.type === 'text' || source.type === 'content') return undefined;
  if (source.type === 'url') return 'PDF documents by URL';
  return `document source '${str(source.type) ?? 'missing'}' (files by id are Anthropic's own)`;
}

function blockProblem(block: unknown, depth: number): string | undefined {
  if (!isObject(block)) return undefined; // toChat's own checks answer malformed blocks
  const type = str(block.type) ?? '';
  if (!TRANSLATED_BLOCKS.has(type)) return `content blocks of type '${type}'`;
  if (type === 'image') return imageProblem(block);
  if (type === 'document') return documentProblem(block);
  if (type === 'tool_result' && depth === 0 && Array.isArray(block.content)) {
    for (const inner of block.content) {
      const p = blockProblem(inner, 1);
      if (p) return `${p} in a tool_result`;
    }
  }
  return undefined;
}

export function messagesUnsupported(body: Json): string | undefined {
  for (const f of REFUSED_FIELDS) if (present(body[f])) return `\`${f}\``;
  if (Array.isArray(body.tools)) {
    for (const t of body.tools) {
      if (isObject(t) && t.type !== undefined && t.type !== null && t.type !== 'custom') return `Anthropic server tool '${str(t.type) ?? '?'}'`;
    }
  }
  if (Array.isArray(body.system)) {
    for (const b of body.system) if (isObject(b) && b.type !== 'text') return `system blocks of type '${str(b.type) ?? '?'}'`;
  }
  if (Array.isArray(body.messages)) {
    for (const m of body.messages) {
      if (!isObject(m) || !Array.isArray(m.content)) continue;
      for (const block of m.content) {
        const p = blockProblem(block, 0);
        if (p) return p;
      }
    }
  }
  return undefined;
}
