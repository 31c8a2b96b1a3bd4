/**
 * A port for the peers (Portkey, LiteLLM): third-party servers that take a
 * port number and, given 0, do not print the one they bound. Found by
 * binding port 0 and closing it, so another process could take it before
 * the peer does (the peer then fails to start, and the bench reports it
 * skipped). Everything of ours (the sidecar, floor, express, the fakes)
 * listens on port 0 and says which port it got.
 */
import net from 'node:net';

export function portForPeer(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close((err) => (err ? reject(err) : resolve(port)));
    });
  });
}
