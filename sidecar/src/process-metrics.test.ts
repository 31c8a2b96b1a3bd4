import { describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import Registry from 'prom-client/lib/registry.js';
import { maxFdsFrom, registerProcessMetrics, spaceLabel } from './process-metrics.ts';

const value = (text: string, name: string, labels = ''): number | undefined => {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `) || (labels === '' && l.startsWith(`${name}{`) === false && l.startsWith(`${name} `)));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
};

describe('process metrics', () => {
  it('names heap spaces as prom-client does', () => {
    expect(spaceLabel('new_space')).toBe('new');
    expect(spaceLabel('code_large_object_space')).toBe('code_large_object');
    expect(spaceLabel('odd')).toBe('odd');
  });

  it('reads the open-files limit from /proc/self/limits', () => {
    const limits = 'Limit                     Soft Limit           Hard Limit           Units\nMax processes             63704                63704                processes\nMax open files            1048576              1048576              files\n';
    expect(maxFdsFrom(limits)).toBe(1048576);
    expect(maxFdsFrom(limits.replace('1048576              1048576', 'unlimited            unlimited'))).toBeUndefined();
    expect(maxFdsFrom('')).toBeUndefined();
  });

  it('serves the llmroute_process_* series with live values on the first scrape', async () => {
    const registry = new Registry();
    const stop = registerProcessMetrics(registry);
    try {
      const text = await registry.metrics();
      const p = 'llmroute_process_';
      expect(value(text, `${p}process_resident_memory_bytes`)).toBeGreaterThan(10 * 1024 * 1024);
      expect(value(text, `${p}process_cpu_seconds_total`)).toBeGreaterThan(0);
      expect(value(text, `${p}process_cpu_user_seconds_total`)).toBeGreaterThan(0);
      expect(value(text, `${p}process_start_time_seconds`)).toBeGreaterThan(Date.now() / 1000 - 3600);
      expect(value(text, `${p}nodejs_heap_size_used_bytes`)).toBeGreaterThan(0);
      expect(value(text, `${p}nodejs_external_memory_bytes`)).toBeGreaterThan(0);
      // the by-space gauges are set by the first one's collect: present on the very first scrape
      expect(value(text, `${p}nodejs_heap_space_size_total_bytes`, '{space="new"}')).toBeGreaterThan(0);
      expect(value(text, `${p}nodejs_heap_space_size_used_bytes`, '{space="old"}')).toBeGreaterThan(0);
      expect(value(text, `${p}nodejs_eventloop_lag_p99_seconds`)).toBeDefined();
      expect(value(text, `${p}nodejs_active_resources_total`)).toBeGreaterThanOrEqual(0);
      if (process.platform === 'linux') expect(value(text, `${p}process_open_fds`)).toBeGreaterThan(2);
      expect(text).toContain(`${p}nodejs_version_info{version="${process.version}"`);
      expect(text).not.toMatch(/^# HELP (?!llmroute_process_)/m);
      // CPU counters catch up at each scrape: never backwards
      const cpu1 = value(text, `${p}process_cpu_seconds_total`)!;
      for (let i = 0; i < 1e6; i++) Math.sqrt(i);
      expect(value(await registry.metrics(), `${p}process_cpu_seconds_total`)!).toBeGreaterThanOrEqual(cpu1);
    } finally {
      stop();
    }
  });

  it('counts active resources by type, and forgets types that are gone', async () => {
    const registry = new Registry();
    const stop = registerProcessMetrics(registry);
    try {
      const timeouts = async (): Promise<number> => {
        const m = /llmroute_process_nodejs_active_resources\{type="Timeout"\} (\d+)/.exec(await registry.metrics());
        return m ? Number(m[1]) : 0;
      };
      const before = await timeouts();
      const timers = [1, 2, 3].map(() => setTimeout(() => undefined, 10_000));
      expect(await timeouts()).toBe(before + 3);
      for (const t of timers) clearTimeout(t);
      expect(await timeouts()).toBe(before);
      if (before === 0) expect(await registry.metrics()).not.toContain('{type="Timeout"}');
    } finally {
      stop();
    }
  });

  it("loads prom-client's modules one by one: not its index, its default metrics, node:cluster or OpenTelemetry", () => {
    // jest has a module registry of its own: look at a fresh process
    const metrics = fileURLToPath(new URL('./metrics.ts', import.meta.url));
    const script = `const { Metrics } = await import(${JSON.stringify(metrics)}); const m = new Metrics(); await m.registry.metrics(); m.close();
      const { createRequire } = await import('node:module'); const r = createRequire(import.meta.url);
      process.stdout.write(JSON.stringify({ files: Object.keys(r.cache).map((k) => k.slice(k.lastIndexOf('node_modules/') + 13)), builtins: process.moduleLoadList }));`;
    const out = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })) as { files: string[]; builtins: string[] };
    expect(out.files).toContain('prom-client/lib/registry.js');
    expect(out.files.filter((f) => f === 'prom-client/index.js' || f.includes('defaultMetrics') || f.includes('@opentelemetry') || f.includes('tdigest'))).toEqual([]);
    expect(out.builtins.filter((b) => /\bcluster\b/.test(b))).toEqual([]);
  });
});
