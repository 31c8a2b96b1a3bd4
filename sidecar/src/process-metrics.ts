/**
 * The sidecar's own process metrics (`llmroute_process_*`): CPU, memory,
 * V8 heap spaces, file descriptors, event-loop lag and active resources,
 * read from Node's built-ins when a scrape asks. The names are those of
 * prom-client's default metrics, so dashboards written for them work.
 *
 * Not prom-client's collectDefaultMetrics: it loads node:cluster, the
 * OpenTelemetry API and a GC observer; with prom-client's index they cost
 * the sidecar about 7 MB of resident memory idle, 5 MB after its first
 * requests (bench/README.md, "Memory"). The GC-duration histogram is
 * the one default metric left out: it would run an observer on every GC.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { getHeapSpaceStatistics } from 'node:v8';
import Counter from 'prom-client/lib/counter.js';
import Gauge from 'prom-client/lib/gauge.js';
import type { Registry } from 'prom-client';

export const PROCESS_PREFIX = 'llmroute_process_';

/** Heap space names as prom-client writes them: `new_space` → `new`. */
export function spaceLabel(name: string): string {
  return name.endsWith('_space') ? name.slice(0, -'_space'.length) : name;
}

/** The soft "Max open files" limit from /proc/self/limits text, or undefined. */
export function maxFdsFrom(limits: string): number | undefined {
  const m = /^Max open files\s+(\d+|unlimited)/m.exec(limits);
  return m && m[1] !== 'unlimited' ? Number(m[1]) : undefined;
}

function countOpenFds(): number | undefined {
  try {
    return readdirSync('/proc/self/fd').length - 1; // less the descriptor readdir itself holds open
  } catch {
    return undefined; // not Linux
  }
}

function readMaxFds(): number | undefined {
  try {
    return maxFdsFrom(readFileSync('/proc/self/limits', 'utf8'));
  } catch {
    return undefined;
  }
}

/** Registers the process metrics on `registry`. Returns a function that stops the event-loop monitor. */
export function registerProcessMetrics(registry: Registry): () => void {
  const p = PROCESS_PREFIX;
  const registers = [registry];
  const gauge = (name: string, help: string, collect: (g: Gauge<string>) => void, labelNames: string[] = []): Gauge<string> =>
    new Gauge({ name: p + name, help, labelNames, registers, collect(this: Gauge<string>) { collect(this); } });

  // CPU: counters that catch up with process.cpuUsage() at each scrape. A scrape reads the
  // metrics in the order they were registered, so the one whose collect sets the others comes first.
  let lastCpu = { user: 0, system: 0 };
  const cpuParts: Counter<string>[] = [];
  new Counter({
    name: `${p}process_cpu_seconds_total`,
    help: 'User and system CPU time spent, in seconds.',
    registers,
    collect(this: Counter<string>) {
      const now = process.cpuUsage();
      const user = (now.user - lastCpu.user) / 1e6;
      const system = (now.system - lastCpu.system) / 1e6;
      lastCpu = now;
      cpuParts[0]!.inc(user);
      cpuParts[1]!.inc(system);
      this.inc(user + system);
    },
  });
  cpuParts.push(new Counter({ name: `${p}process_cpu_user_seconds_total`, help: 'User CPU time spent, in seconds.', registers }));
  cpuParts.push(new Counter({ name: `${p}process_cpu_system_seconds_total`, help: 'System CPU time spent, in seconds.', registers }));

  const startSeconds = Math.round(Date.now() / 1000 - process.uptime());
  gauge('process_start_time_seconds', 'Start time of the process since the Unix epoch, in seconds.', (g) => g.set(startSeconds));
  gauge('process_resident_memory_bytes', 'Resident memory size, in bytes.', (g) => g.set(process.memoryUsage.rss()));
  gauge('process_open_fds', 'Open file descriptors.', (g) => {
    const n = countOpenFds();
    if (n !== undefined) g.set(n);
  });
  const maxFds = readMaxFds();
  gauge('process_max_fds', 'The limit on open file descriptors.', (g) => {
    if (maxFds !== undefined) g.set(maxFds);
  });

  // V8 heap, whole and by space.
  gauge('nodejs_heap_size_total_bytes', 'V8 heap size, in bytes.', (g) => g.set(process.memoryUsage().heapTotal));
  gauge('nodejs_heap_size_used_bytes', 'V8 heap in use, in bytes.', (g) => g.set(process.memoryUsage().heapUsed));
  gauge('nodejs_external_memory_bytes', 'Memory of C++ objects bound to JavaScript objects (buffers among them), in bytes.', (g) => g.set(process.memoryUsage().external));
  const spaces: Gauge<string>[] = [];
  gauge(
    'nodejs_heap_space_size_total_bytes',
    'V8 heap space size, in bytes.',
    (g) => {
      for (const s of getHeapSpaceStatistics()) {
        const space = spaceLabel(s.space_name);
        g.set({ space }, s.space_size);
        spaces[0]!.set({ space }, s.space_used_size);
        spaces[1]!.set({ space }, s.space_available_size);
      }
    },
    ['space'],
  );
  spaces.push(new Gauge({ name: `${p}nodejs_heap_space_size_used_bytes`, help: 'V8 heap space in use, in bytes.', labelNames: ['space'], registers }));
  spaces.push(new Gauge({ name: `${p}nodejs_heap_space_size_available_bytes`, help: 'V8 heap space available, in bytes.', labelNames: ['space'], registers }));

  // Event-loop lag since the start, from Node's own sampler (10 ms resolution).
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  const lagStat = (name: string, help: string, read: () => number): void => {
    gauge(name, help, (g) => {
      const v = read();
      if (Number.isFinite(v)) g.set(v / 1e9);
    });
  };
  lagStat('nodejs_eventloop_lag_min_seconds', 'The smallest event-loop delay seen, in seconds.', () => lag.min);
  lagStat('nodejs_eventloop_lag_max_seconds', 'The largest event-loop delay seen, in seconds.', () => lag.max);
  lagStat('nodejs_eventloop_lag_mean_seconds', 'The mean event-loop delay, in seconds.', () => lag.mean);
  lagStat('nodejs_eventloop_lag_p50_seconds', 'The median event-loop delay, in seconds.', () => lag.percentile(50));
  lagStat('nodejs_eventloop_lag_p90_seconds', 'The 90th percentile of the event-loop delay, in seconds.', () => lag.percentile(90));
  lagStat('nodejs_eventloop_lag_p99_seconds', 'The 99th percentile of the event-loop delay, in seconds.', () => lag.percentile(99));

  // What keeps the event loop alive: sockets, timers, file reads...
  let resourcesTotal: Gauge<string> | undefined;
  gauge(
    'nodejs_active_resources',
    'Active resources keeping the event loop alive, by type.',
    (g) => {
      const counts = new Map<string, number>();
      const all = process.getActiveResourcesInfo();
      for (const type of all) counts.set(type, (counts.get(type) ?? 0) + 1);
      g.reset();
      for (const [type, n] of counts) g.set({ type }, n);
      resourcesTotal!.set(all.length);
    },
    ['type'],
  );
  resourcesTotal = new Gauge({ name: `${p}nodejs_active_resources_total`, help: 'Active resources keeping the event loop alive.', registers });

  const [major, minor, patch] = process.versions.node.split('.').map(Number);
  gauge('nodejs_version_info', 'The Node.js version.', (g) => g.set({ version: process.version, major: major!, minor: minor!, patch: patch! }, 1), ['version', 'major', 'minor', 'patch']);

  return () => lag.disable();
}
