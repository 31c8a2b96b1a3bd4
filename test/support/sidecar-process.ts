/**
 * Runs the real sidecar as a child process for integration tests: writes a
 * config into a temp folder, starts `sidecar/src/cli.ts` on Node 24 with
 * ephemeral ports, waits for its "listening" log line, and keeps every log
 * line it prints so tests can assert on them (and on what is NOT in them).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../../sidecar/src/cli.ts', import.meta.url));

export interface SidecarProcess {
  child: ChildProcess;
  dir: string;
  configPath: string;
  /** http://127.0.0.1:PORT/v1 */
  baseURL: string;
  apiPort: number;
  adminURL: string;
  /** Every stdout line, parsed when it is JSON. */
  logs: Array<Record<string, unknown>>;
  stdout: () => string;
  stderr: () => string;
  /** Replaces config.yaml atomically (write + rename), as an editor or a ConfigMap update would. */
  writeConfig: (yamlText: string) => void;
  metric: (name: string, labels?: Record<string, string>) => Promise<number>;
  waitForLog: (predicate: (line: Record<string, unknown>) => boolean, timeoutMs?: number) => Promise<Record<string, unknown>>;
  exited: Promise<number | null>;
  stop: (signal?: NodeJS.Signals) => Promise<number | null>;
}

export interface StartOptions {
  args?: string[];
  env?: NodeJS.ProcessEnv;
  /** Where config.yaml goes; default a new temp folder. */
  dir?: string;
  configPath?: string;
  waitReady?: boolean;
}

export async function startSidecarProcess(configYaml: string | undefined, o: StartOptions = {}): Promise<SidecarProcess> {
  const dir = o.dir ?? mkdtempSync(join(tmpdir(), 'llmroute-it-'));
  const configPath = o.configPath ?? join(dir, 'config.yaml');
  if (configYaml !== undefined) writeFileSync(configPath, configYaml);
  const child = spawn(process.execPath, [CLI, '--config', configPath, '--port', '0', '--admin-port', '0', ...(o.args ?? [])], {
    env: { ...process.env, ...o.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const logs: Array<Record<string, unknown>> = [];
  const waiters = new Set<() => void>();
  let partial = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    out += d;
    partial += d;
    let nl;
    while ((nl = partial.indexOf('\n')) !== -1) {
      const line = partial.slice(0, nl);
      partial = partial.slice(nl + 1);
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        logs.push({ raw: line });
      }
    }
    for (const w of waiters) w();
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const waitForLog = (predicate: (l: Record<string, unknown>) => boolean, timeoutMs = 10_000): Promise<Record<string, unknown>> =>
    new Promise((resolve, reject) => {
      const check = (): boolean => {
        const hit = logs.find(predicate);
        if (hit) {
          waiters.delete(onData);
          clearTimeout(timer);
          resolve(hit);
          return true;
        }
        return false;
      };
      const onData = (): void => void check();
      const timer = setTimeout(() => {
        waiters.delete(onData);
        reject(new Error(`no matching log line within ${timeoutMs} ms; stdout:\n${out}\nstderr:\n${err}`));
      }, timeoutMs);
      waiters.add(onData);
      check();
    });

  let apiPort = 0;
  let adminURL = '';
  if (o.waitReady !== false) {
    const ready = await Promise.race([
      waitForLog((l) => l.msg === 'llmroute sidecar listening', 15_000),
      exited.then((code) => {
        throw new Error(`sidecar exited with ${code} before listening:\n${out}\n${err}`);
      }),
    ]);
    apiPort = Number(String(ready.api).split(':').pop());
    adminURL = `http://127.0.0.1:${String(ready.admin).split(':').pop()}`;
  }

  const sp: SidecarProcess = {
    child,
    dir,
    configPath,
    baseURL: `http://127.0.0.1:${apiPort}/v1`,
    apiPort,
    adminURL,
    logs,
    stdout: () => out,
    stderr: () => err,
    writeConfig: (text) => {
      const tmp = `${configPath}.tmp-${process.pid}`;
      writeFileSync(tmp, text);
      renameSync(tmp, configPath);
    },
    metric: async (name, labels = {}) => {
      const text = await (await fetch(`${adminURL}/metrics`)).text();
      let sum = 0;
      for (const line of text.split('\n')) {
        if (!line.startsWith(name)) continue;
        const m = /^([a-zA-Z_:]+)(\{(.*)\})? (.+)$/.exec(line);
        if (!m || m[1] !== name) continue;
        const have = Object.fromEntries([...(m[3] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
        if (Object.entries(labels).every(([k, v]) => have[k] === v)) sum += Number(m[4]);
      }
      return sum;
    },
    waitForLog,
    exited,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 35_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
  return sp;
}

/** Polls until fn returns a truthy value. */
export async function eventually<T>(fn: () => Promise<T> | T, timeoutMs = 5000, intervalMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
      last = v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
