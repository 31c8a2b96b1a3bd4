/**
 * Ports on 127.0.0.1: a free one to listen on, and one where connections
 * are refused.
 */
import net from 'node:net';

export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      if (!addr || typeof addr === 'string') {
        srv.close();
        reject(new Error('freePort: no TCP address'));
        return;
      }
      const port = addr.port;
      srv.close((err) => (err ? reject(err) : resolve(port)));
    });
  });
}

/** Whether a TCP connection to host:port is refused (nothing listens there). */
export function isRefused(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
  });
}

/** Below the kernel's ephemeral range: no server that listens on port 0 or on freePort() can be given it. */
const NEVER_EPHEMERAL_PORT = 1;

/**
 * A base URL (`http://127.0.0.1:PORT/v1`) where connections are refused.
 * Port 1 when nothing listens there (checked): a freed ephemeral port
 * could be handed to another test's server in the meantime (a sidecar's
 * admin port once answered a "refused" target's request with a 404).
 * undici's dispatcher connects to it; WHATWG fetch() refuses port 1 as a
 * "bad port" by itself, so use it with the sidecar, not with fetch.
 */
export async function refusedURL(host = '127.0.0.1'): Promise<string> {
  const port = (await isRefused(host, NEVER_EPHEMERAL_PORT)) ? NEVER_EPHEMERAL_PORT : await freePort(host);
  return `http://${host}:${port}/v1`;
}
