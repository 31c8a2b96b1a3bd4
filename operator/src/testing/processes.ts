/**
 * For e2e tests: child processes (the operator's and the sidecar's CLIs)
 * run by the repository's Node 24, which runs .ts files as they are. Their
 * stdout JSON lines are kept; tests wait for a line and stop them by pid.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** node_modules/.bin/node (Node 24) when present, else this process's node. */
export function node24(): string {
  const local = `${REPO_ROOT}node_modules/.bin/node`;
  return existsSync(local) ? local : process.execPath;
}

export interface Child {
  readonly proc: ChildProcess;
  /** stdout lines so far. */
  readonly lines: string[];
  /** stderr so far. */
  stderr(): string;
  /** Resolves with the first stdout line (past or future) that `match` accepts. */
  waitForLine(match: (line: string, json: Record<string, any> | undefined) => boolean, timeoutMs?: number): Promise<Record<string, any>>;
  /** Sends the signal and resolves with the exit code once the process has exited (SIGKILL after timeoutMs). */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | null>;
  readonly exited: Promise<number | null>;
}

/** Runs `node [nodeFlags] script args` (nodeFlags: e.g. an image's ENTRYPOINT flags). */
export function spawnNodeScript(script: string, args: string[], env: NodeJS.ProcessEnv = {}, nodeFlags: readonly string[] = []): Child {
  const proc = spawn(node24(), [...nodeFlags, script, ...args], { cwd: REPO_ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let err = '';
  let partial = '';
  const listeners = new Set<() => void>();
  proc.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    partial += chunk;
    let nl: number;
    while ((nl = partial.indexOf('\n')) !== -1) {
      lines.push(partial.slice(0, nl));
      partial = partial.slice(nl + 1);
    }
    for (const l of listeners) l();
  });
  proc.stderr!.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  exited.then(() => {
    for (const l of listeners) l();
  });
  let done = false;
  void exited.then(() => (done = true));

  const parse = (line: string) => {
    try {
      return JSON.parse(line) as Record<string, any>;
    } catch {
      return undefined;
    }
  };

  return {
    proc,
    lines,
    stderr: () => err,
    exited,
    waitForLine(match, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        let seen = 0;
        const check = () => {
          for (; seen < lines.length; seen++) {
            const json = parse(lines[seen]!);
            if (match(lines[seen]!, json)) {
              cleanup();
              resolve(json ?? { line: lines[seen] });
              return;
            }
          }
          if (done) {
            cleanup();
            reject(new Error(`the process exited (code ${proc.exitCode}) before the line came.\nstdout:\n${lines.join('\n')}\nstderr:\n${err}`));
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`no such line within ${timeoutMs} ms.\nstdout:\n${lines.slice(-30).join('\n')}\nstderr:\n${err}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        check();
      });
    },
    async stop(signal = 'SIGTERM', timeoutMs = 15_000) {
      if (done) return proc.exitCode;
      proc.kill(signal);
      const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
