/**
 * An API key held so that it cannot leak by accident: it prints, logs and
 * serialises as "[redacted]". Only `reveal()` gives the value, and only the
 * code that builds an upstream request calls it.
 */
const REDACTED = '[redacted]';

export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `Secret(${REDACTED})`;
  }
}
