// Loaded into the sidecar under test only (NODE_OPTIONS=--import=<this file>):
// after every major GC, prints one JSON line with the live heap and the RSS,
// so the soak can tell memory that is retained (a leak) from the saw-tooth
// of garbage that the next major GC frees.
import { PerformanceObserver, constants } from 'node:perf_hooks';

const obs = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    if (e.detail?.kind !== constants.NODE_PERFORMANCE_GC_MAJOR) continue;
    const m = process.memoryUsage();
    process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), level: 'debug', component: 'gc-probe', msg: 'major gc', heapUsed: m.heapUsed, rss: m.rss, ms: Math.round(e.duration) })}\n`);
  }
});
obs.observe({ entryTypes: ['gc'] });
