// Preloaded into a sidecar process (NODE_OPTIONS=--import=…) by tests that
// check which packages it loaded: on exit, writes the file names of every
// module it resolved (ES modules, through a resolve hook, and CommonJS ones,
// from the require cache) to the file LLMROUTE_MODULE_PROBE_OUT names.
import { writeFileSync } from 'node:fs';
import { createRequire, registerHooks } from 'node:module';

const out = process.env.LLMROUTE_MODULE_PROBE_OUT;
const seen = new Set();
if (out) {
  registerHooks({
    resolve(specifier, context, next) {
      const r = next(specifier, context);
      seen.add(r.url);
      return r;
    },
  });
  const require = createRequire(import.meta.url);
  process.on('exit', () => {
    for (const k of Object.keys(require.cache)) seen.add(k);
    writeFileSync(out, JSON.stringify([...seen]));
  });
}
