/**
 * Types for the library modules the sidecar loads one by one instead of
 * through their package index. The sidecar runs beside every pod, so what
 * an index pulls in and the sidecar never calls is memory paid many times:
 *
 * - `undici`'s index loads fetch, WebSocket, the cache, the mock agent and
 *   the request/stream APIs: the sidecar dispatches to an Agent with a
 *   handler of its own (upstream.ts), so the Agent module is all it loads.
 * - `prom-client`'s index loads the default metrics (node:cluster, the
 *   OpenTelemetry API, a GC observer), Summary and the Pushgateway: the
 *   registry, Counter, Gauge and Histogram are all the sidecar uses.
 *
 * Putting either index back, alone, raised the compiled sidecar's RSS by
 * about 10 MB (undici) and 7 MB (prom-client) idle, 7 and 5 MB after its
 * first requests (Node 24; bench/README.md, "Memory"). The versions are
 * pinned by package-lock.json, and upstream.test.ts and
 * process-metrics.test.ts fail if a package index creeps back.
 */
declare module 'undici/lib/dispatcher/agent.js' {
  import { Agent } from 'undici';
  export = Agent;
}

declare module 'prom-client/lib/registry.js' {
  import { Registry } from 'prom-client';
  export = Registry;
}

declare module 'prom-client/lib/counter.js' {
  import { Counter } from 'prom-client';
  export = Counter;
}

declare module 'prom-client/lib/gauge.js' {
  import { Gauge } from 'prom-client';
  export = Gauge;
}

declare module 'prom-client/lib/histogram.js' {
  import { Histogram } from 'prom-client';
  export = Histogram;
}
