/**
 * The peers, installed at bench time into a throwaway cache folder outside
 * the repository (never a dependency of llmroute), at pinned versions:
 *
 *   Portkey gateway  npm  @portkey-ai/gateway@PORTKEY_VERSION  → ~/.cache/llmroute/bench-peers/portkey-<v>
 *   LiteLLM proxy    PyPI litellm[proxy]==LITELLM_VERSION      → ~/.cache/llmroute/bench-peers/litellm-<v> (a venv)
 *
 * LLMROUTE_BENCH_CACHE moves the folder. An install that fails or runs past
 * its time limit makes the peer "skipped", with the reason, never a failure.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export const PORTKEY_VERSION = '1.15.2';
/** The newest litellm[proxy] that installs from PyPI alone: later ones need a `litellm-proxy` wheel of the same version that is not always published. */
export const LITELLM_VERSION = '1.77.7';

export const PEER_CACHE = process.env.LLMROUTE_BENCH_CACHE ?? join(homedir(), '.cache', 'llmroute', 'bench-peers');

/**
 * Environment for peer processes: any outbound HTTP(S) they might try
 * (telemetry, price lists) goes to a dead local proxy, 127.0.0.1 stays direct.
 */
export function sealedEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? homedir(),
    LANG: 'C.UTF-8',
    HTTP_PROXY: 'http://127.0.0.1:9',
    HTTPS_PROXY: 'http://127.0.0.1:9',
    http_proxy: 'http://127.0.0.1:9',
    https_proxy: 'http://127.0.0.1:9',
    NO_PROXY: '127.0.0.1,localhost',
    no_proxy: '127.0.0.1,localhost',
    NODE_USE_ENV_PROXY: '1',
    ...extra,
  };
}

function run(cmd: string, args: string[], cwd: string, logFile: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const log = createWriteStream(logFile, { flags: 'a' });
    log.write(`\n$ ${cmd} ${args.join(' ')}\n`);
    const p = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
    p.stdout.pipe(log, { end: false });
    p.stderr.pipe(log, { end: false });
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.once('error', (err) => {
      clearTimeout(timer);
      log.end();
      reject(new Error(`${cmd}: ${err.message}`));
    });
    p.once('exit', (code, signal) => {
      clearTimeout(timer);
      log.end();
      if (code === 0) resolve();
      else reject(new Error(`${cmd} ${args.slice(0, 3).join(' ')} … exited with ${signal ?? code}${signal === 'SIGKILL' ? ` (time limit ${timeoutMs / 1000}s)` : ''}; see ${logFile}`));
    });
  });
}

export type Installed<T> = { ok: true; value: T } | { ok: false; reason: string };

export async function ensurePortkey(say: (m: string) => void): Promise<Installed<{ entry: string; version: string }>> {
  const dir = join(PEER_CACHE, `portkey-${PORTKEY_VERSION}`);
  const entry = join(dir, 'node_modules', '@portkey-ai', 'gateway', 'build', 'start-server.js');
  if (existsSync(entry)) return { ok: true, value: { entry, version: PORTKEY_VERSION } };
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'package.json'), '{"private": true, "description": "llmroute bench peer, safe to delete"}\n');
    say(`installing @portkey-ai/gateway@${PORTKEY_VERSION} into ${dir} …`);
    // --ignore-scripts: its only script is a patch-package postinstall whose patches are not published.
    await run('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts', `@portkey-ai/gateway@${PORTKEY_VERSION}`], dir, join(dir, 'install.log'), 5 * 60_000);
  } catch (err) {
    return { ok: false, reason: `npm install @portkey-ai/gateway@${PORTKEY_VERSION} failed: ${(err as Error).message}` };
  }
  if (!existsSync(entry)) return { ok: false, reason: `@portkey-ai/gateway@${PORTKEY_VERSION} installed without build/start-server.js` };
  return { ok: true, value: { entry, version: PORTKEY_VERSION } };
}

export async function ensureLitellm(say: (m: string) => void): Promise<Installed<{ bin: string; version: string }>> {
  const dir = join(PEER_CACHE, `litellm-${LITELLM_VERSION}`);
  const bin = join(dir, 'bin', 'litellm');
  const marker = join(dir, '.installed');
  if (existsSync(bin) && existsSync(marker)) return { ok: true, value: { bin, version: LITELLM_VERSION } };
  const python = process.env.PYTHON ?? 'python3';
  try {
    mkdirSync(PEER_CACHE, { recursive: true });
    say(`installing litellm[proxy]==${LITELLM_VERSION} into a venv at ${dir} (a minute or two, once) …`);
    await run(python, ['-m', 'venv', dir], PEER_CACHE, join(PEER_CACHE, `litellm-${LITELLM_VERSION}.install.log`), 2 * 60_000);
    await run(join(dir, 'bin', 'pip'), ['install', '--quiet', '--disable-pip-version-check', `litellm[proxy]==${LITELLM_VERSION}`], dir, join(PEER_CACHE, `litellm-${LITELLM_VERSION}.install.log`), 15 * 60_000);
    writeFileSync(marker, `${new Date().toISOString()}\n`);
  } catch (err) {
    return { ok: false, reason: `pip install litellm[proxy]==${LITELLM_VERSION} failed: ${(err as Error).message}` };
  }
  if (!existsSync(bin)) return { ok: false, reason: `litellm[proxy]==${LITELLM_VERSION} installed without a litellm command` };
  return { ok: true, value: { bin, version: LITELLM_VERSION } };
}
