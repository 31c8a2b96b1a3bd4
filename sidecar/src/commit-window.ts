/**
 * A stream's commit window, as pure decisions (attempt.ts carries them
 * out). Without one a stream commits at its first content chunk. With one
 * (route `commit`) the try keeps reading after that chunk and holds what
 * comes, the exact frames, until afterTokens tokens or afterMs after the
 * first content chunk, whichever comes first; then the stream commits and
 * the held frames go to the client unchanged. Until then a stall (idle),
 * an error or a cut is a failure before the commit point, and falls back
 * invisibly; so is a stream slower than minTokensPerSecond at the window's
 * end. A stream that finishes inside the window commits at once, and one
 * whose held frames reach COMMIT_WINDOW_MAX_BYTES commits then.
 *
 * Tokens are estimated, not counted: the characters of the text-bearing
 * string fields of the frames (content, text, delta, arguments,
 * partial_json, thinking, refusal, reasoning_content) divided by 4, the
 * usual English average of the providers' tokenizers. Characters rather
 * than chunks, because providers chunk differently (OpenAI about one token
 * per chunk, Anthropic a few, Gemini dozens): a chunk count would take
 * Gemini's big chunks for a crawl. A scan of the frame text rather than a
 * JSON parse (no object tree per chunk); it runs only inside a window. A
 * Responses `….done` frame repeats the text it closes; it comes at the end,
 * next to the finish that commits the window anyway.
 */
import type { CommitPolicy } from './config/runtime-config.ts';

/** Content bytes (UTF-16 units, as held) a window keeps before it commits anyway. */
export const COMMIT_WINDOW_MAX_BYTES = 1024 * 1024;
/** Characters per token of the estimate. */
export const CHARS_PER_TOKEN = 4;

/** What a window has held so far (attempt.ts keeps it). */
export interface WindowState {
  /** When the first content chunk came (ms, the clock of `now`). */
  openedAt: number;
  /** Estimated tokens held, the first content chunk's included. */
  tokens: number;
  /** Estimated tokens that came after the first content chunk's batch: the rate's numerator. */
  tokensAfterFirst: number;
  /** Length of the frames held. */
  bytes: number;
}

export type WindowVerdict =
  /** Keep holding; check again at the latest in `waitMs` (undefined: only when more comes). */
  | { action: 'hold'; waitMs: number | undefined }
  /** Commit now: send what is held and relay the rest. */
  | { action: 'commit'; by: 'tokens' | 'time' | 'bytes' | 'finished' }
  /** Too slow at the window's end: a failed try, before the commit point. */
  | { action: 'fail'; tokensPerSecond: number };

const FINISHED: WindowVerdict = Object.freeze({ action: 'commit', by: 'finished' });
const BY_BYTES: WindowVerdict = Object.freeze({ action: 'commit', by: 'bytes' });
const BY_TOKENS: WindowVerdict = Object.freeze({ action: 'commit', by: 'tokens' });
const BY_TIME: WindowVerdict = Object.freeze({ action: 'commit', by: 'time' });
const HOLD: WindowVerdict = Object.freeze({ action: 'hold', waitMs: undefined });

/**
 * What the window does now, after a batch of frames (or when its timer
 * fires). `finished`: the provider ended the stream normally.
 */
export function judgeWindow(p: CommitPolicy, s: WindowState, finished: boolean, now: number): WindowVerdict {
  if (finished) return FINISHED;
  if (s.bytes >= COMMIT_WINDOW_MAX_BYTES) return BY_BYTES;
  const elapsed = now - s.openedAt;
  const byTokens = p.afterTokens !== undefined && s.tokens >= p.afterTokens;
  const byTime = p.afterMs !== undefined && elapsed >= p.afterMs;
  if (!byTokens && !byTime) return p.afterMs === undefined ? HOLD : { action: 'hold', waitMs: p.afterMs - elapsed };
  if (p.minTokensPerSecond !== undefined) {
    const rate = tokensPerSecond(s, elapsed);
    if (rate < p.minTokensPerSecond) return { action: 'fail', tokensPerSecond: rate };
  }
  return byTokens ? BY_TOKENS : BY_TIME;
}

/**
 * The stream's rate inside the window: tokens after the first content
 * chunk over the time since it (that chunk marks the start, so it is not
 * counted). Infinity when no time has passed (everything came at once).
 */
export function tokensPerSecond(s: WindowState, elapsedMs: number): number {
  return elapsedMs > 0 ? (s.tokensAfterFirst * 1000) / elapsedMs : Infinity;
}

/** Adds frames[from..] to the window's state; `first`: those came with the first content chunk. */
export function holdFrames(s: WindowState, frames: readonly string[], from: number, first: boolean): void {
  let chars = 0;
  let bytes = 0;
  for (let i = from; i < frames.length; i++) {
    const f = frames[i]!;
    chars += contentChars(f);
    bytes += f.length;
  }
  const tokens = chars / CHARS_PER_TOKEN;
  s.tokens += tokens;
  if (!first) s.tokensAfterFirst += tokens;
  s.bytes += bytes;
}

/** "field":"value" for the fields that carry generated text; the value's characters, escapes as written. */
const TEXT_FIELD = /"(?:content|text|delta|arguments|partial_json|thinking|refusal|reasoning_content|reasoning)"\s*:\s*"((?:[^"\\]|\\.)*)"/g;

/**
 * The characters of generated text in one frame: a chat.completion.chunk's
 * JSON, or a whole SSE frame of the Responses or Messages API. Counts the
 * string values of text-bearing fields wherever they sit; other fields (ids,
 * roles, types, finish reasons) count nothing.
 */
export function contentChars(frame: string): number {
  let n = 0;
  TEXT_FIELD.lastIndex = 0;
  for (let m = TEXT_FIELD.exec(frame); m !== null; m = TEXT_FIELD.exec(frame)) n += m[1]!.length;
  return n;
}
