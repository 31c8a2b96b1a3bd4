/** The logger the webhook writes to: one JSON line per event (the operator's logger fits). */
export interface WebhookLogger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export const silentLogger: WebhookLogger = { info() {}, warn() {}, error() {} };

/** One JSON line per event on stdout, like the sidecar's and the operator's. */
export function jsonLogger(component = 'webhook', write: (line: string) => void = (l) => process.stdout.write(l)): WebhookLogger {
  const emit = (level: string) => (msg: string, fields?: Record<string, unknown>) =>
    write(`${JSON.stringify({ time: new Date().toISOString(), level, component, msg, ...fields })}\n`);
  return { info: emit('info'), warn: emit('warn'), error: emit('error') };
}
