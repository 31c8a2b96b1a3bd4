/**
 * Removes Secret values from a text (an error message from the API server,
 * say) before it is logged: each value, plain and base64, becomes
 * "[redacted]". Pure.
 */
export function redact(text: string, base64Values: Iterable<string>): string {
  let out = text;
  for (const b64 of base64Values) {
    const plain = Buffer.from(b64, 'base64').toString('utf8').trim();
    for (const needle of [b64, plain]) {
      if (needle.length >= 4) out = out.split(needle).join('[redacted]');
    }
  }
  return out;
}
