// Loaded into the sidecar under test by test/support/sidecar-process.ts
// (node --import=<this file>), which opens file descriptor 3 as a pipe for it:
// writes one JSON line there, {"address":"127.0.0.1","port":N}, for every
// server the process binds. So a test that starts the sidecar with
// --port 0 --admin-port 0 learns the ports the kernel gave it at any log level
// (the sidecar's own "listening" line is printed at info only).
import { subscribe } from 'node:diagnostics_channel';
import { writeSync } from 'node:fs';

subscribe('tracing:net.server.listen:asyncEnd', ({ server }) => {
  const a = server.address();
  if (a && typeof a === 'object') writeSync(3, `${JSON.stringify({ address: a.address, port: a.port })}\n`);
});
