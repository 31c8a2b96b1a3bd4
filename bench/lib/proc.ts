/**
 * Child processes for the benchmark and what the kernel says about them:
 * CPU time (utime + stime from /proc/<pid>/stat, every thread, summed over
 * the process and its descendants) and resident memory (VmRSS, VmHWM from
 * /proc/<pid>/status). Linux only; elsewhere the numbers are null.
 */
import { spawn, execFileSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

let clkTck = 0;
function ticksPerSecond(): number {
  if (clkTck === 0) {
    try {
      clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clkTck = 100;
    }
  }
  return clkTck;
}

function readProc(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** The pid and every descendant still alive (through /proc/<pid>/task/<tid>/children). */
export function processTree(pid: number): number[] {
  const out: number[] = [];
  const todo = [pid];
  while (todo.length > 0 && out.length < 256) {
    const p = todo.pop()!;
    out.push(p);
    let tasks: string[] = [];
    try {
      tasks = readdirSync(`/proc/${p}/task`);
    } catch {
      continue;
    }
    for (const t of tasks) {
      const kids = readProc(`/proc/${p}/task/${t}/children`);
      if (!kids) continue;
      for (const k of kids.trim().split(/\s+/)) if (k) todo.push(Number(k));
    }
  }
  return out;
}

/** CPU seconds (user + system) a process has used so far, or null when /proc cannot tell. */
function cpuSecondsOf(pid: number): number | null {
  const stat = readProc(`/proc/${pid}/stat`);
  if (!stat) return null;
  // The command name (field 2) may hold spaces and parentheses: fields start after the last ')'.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state); utime is field 14, stime field 15.
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) return null;
  return (utime + stime) / ticksPerSecond();
}

/** CPU seconds of a process tree. Children that exited since are not counted (ours do not exit mid-run). */
export function treeCpuSeconds(pid: number): number | null {
  let sum = 0;
  let any = false;
  for (const p of processTree(pid)) {
    const s = cpuSecondsOf(p);
    if (s !== null) {
      sum += s;
      any = true;
    }
  }
  return any ? sum : null;
}

function statusKb(pid: number, field: 'VmRSS' | 'VmHWM'): number | null {
  const status = readProc(`/proc/${pid}/status`);
  if (!status) return null;
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  return m ? Number(m[1]) : null;
}

/** Resident memory of a process tree, in MB. */
export function treeRssMb(pid: number): number | null {
  let kb = 0;
  let any = false;
  for (const p of processTree(pid)) {
    const v = statusKb(p, 'VmRSS');
    if (v !== null) {
      kb += v;
      any = true;
    }
  }
  return any ? kb / 1024 : null;
}

/** The kernel's own high-water mark of one process's resident memory, in MB. */
export function hwmMb(pid: number): number | null {
  const v = statusKb(pid, 'VmHWM');
  return v === null ? null : v / 1024;
}

/** Samples a process tree's RSS every `everyMs` and keeps the maximum. */
export class RssSampler {
  peakMb = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly pid: number;

  constructor(pid: number) {
    this.pid = pid;
  }

  start(everyMs = 100): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), everyMs);
    this.timer.unref();
  }

  sample(): number | null {
    const mb = treeRssMb(this.pid);
    if (mb !== null && mb > this.peakMb) this.peakMb = mb;
    return mb;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

export interface Child {
  name: string;
  proc: ChildProcess;
  pid: number;
  /** Output kept for error messages (the last 64 KiB of each stream). */
  output: () => string;
  exited: Promise<number | null>;
  stop: () => Promise<void>;
}

export interface StartChildOptions extends SpawnOptions {
  /** Resolves with a value once the child is ready; called for every stdout line. */
  readyLine?: (line: string) => unknown;
  /** Or polls this until it resolves truthy (HTTP readiness). */
  readyPoll?: () => Promise<unknown>;
  readyTimeoutMs?: number;
}

const KEEP = 64 * 1024;

/** Every child still running: killed when the bench exits, however it exits. */
const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const p of live) p.kill('SIGKILL');
});

/**
 * Spawns a child and waits until it is ready. Its output is drained all the
 * time (a full pipe would stall it) and only the tail is kept.
 */
export async function startChild(name: string, cmd: string, args: string[], o: StartChildOptions): Promise<{ child: Child; ready: unknown }> {
  const proc = spawn(cmd, args, { ...o, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(proc);
  proc.once('exit', () => live.delete(proc));
  let out = '';
  let partial = '';
  let ready: unknown;
  let onReady: ((v: unknown) => void) | undefined;
  const keep = (d: string): void => {
    out += d;
    if (out.length > 2 * KEEP) out = out.slice(-KEEP);
  };
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => {
    keep(d);
    if (!o.readyLine || ready !== undefined) return;
    partial += d;
    let nl;
    while ((nl = partial.indexOf('\n')) !== -1) {
      const line = partial.slice(0, nl);
      partial = partial.slice(nl + 1);
      const v = o.readyLine(line);
      if (v !== undefined && v !== null && v !== false && ready === undefined) {
        ready = v;
        partial = '';
        onReady?.(v);
        break;
      }
    }
  });
  proc.stderr!.setEncoding('utf8').on('data', keep);
  const exited = new Promise<number | null>((resolve) => {
    proc.once('exit', (code) => resolve(code));
    proc.once('error', () => resolve(-1));
  });
  const child: Child = {
    name,
    proc,
    pid: proc.pid ?? -1,
    output: () => out.slice(-KEEP),
    exited,
    stop: async () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      // Long enough for a drain and for --cpu-prof to write its profile.
      const t = setTimeout(() => proc.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(t);
    },
  };
  const timeoutMs = o.readyTimeoutMs ?? 30_000;
  const deadline = Date.now() + timeoutMs;
  const gotReady = new Promise<unknown>((resolve, reject) => {
    onReady = resolve;
    if (o.readyPoll) {
      const poll = async (): Promise<void> => {
        while (Date.now() < deadline && proc.exitCode === null) {
          try {
            const v = await o.readyPoll!();
            if (v) return resolve(v);
          } catch {
            // not yet
          }
          await new Promise((r) => setTimeout(r, 100));
        }
      };
      void poll();
    }
    const timer = setTimeout(() => reject(new Error(`${name}: not ready within ${timeoutMs} ms`)), timeoutMs);
    timer.unref();
    exited.then((code) => reject(new Error(`${name}: exited with ${code} before it was ready`)));
  });
  try {
    const v = await gotReady;
    return { child, ready: v };
  } catch (err) {
    await child.stop();
    throw new Error(`${(err as Error).message}\n--- output of ${name} ---\n${out.slice(-4000)}`);
  }
}
