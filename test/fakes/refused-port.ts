/**
 * A port on 127.0.0.1 where connections are refused. (Servers in the tests
 * listen on port 0 and say which port they got: a port found free and
 * handed on could be taken by another process before it is used.)
 */
import net from 'node:net';

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

/** Below the kernel's ephemeral range: no server that listens on port 0 can be given it. */
const NEVER_EPHEMERAL_PORT = 1;

/**
 * A base URL (`http://127.0.0.1:1/v1`) where connections are refused:
 * port 1, checked to be refused. Not a freed ephemeral port, which could be
 * handed to another test's server in the meantime (a sidecar's admin port
 * once answered a "refused" target's request with a 404). undici's
 * dispatcher connects to it; WHATWG fetch() refuses port 1 as a "bad port"
 * by itself, so use it with the sidecar, not with fetch.
 */
export async function refusedURL(host = '127.0.0.1'): Promise<string> {
  if (!(await isRefused(host, NEVER_EPHEMERAL_PORT))) throw new Error(`refusedURL: something listens on ${host}:${NEVER_EPHEMERAL_PORT}; the tests need that port refused`);
  return `http://${host}:${NEVER_EPHEMERAL_PORT}/v1`;
}
