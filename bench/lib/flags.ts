// Typed, validated access to a scenario's parsed flags. parseArgs gives strings and booleans;
// this turns them into the numbers and choices a scenario needs, with errors that say the fix.
import { InvalidError } from '../../src/core/index.js';
import type { FlagSpec } from '../scenario.js';

export type FlagValues = Readonly<Record<string, string | boolean | (string | boolean)[] | undefined>>;

export class FlagReader {
  constructor(
    private readonly specs: Readonly<Record<string, FlagSpec>>,
    private readonly values: FlagValues,
  ) {}

  string(name: string): string | undefined {
    const v = this.raw(name);
    return typeof v === 'string' ? v : undefined;
  }

  /** Whether the flag was given (a flag without a default is absent otherwise). */
  has(name: string): boolean {
    return this.raw(name) !== undefined;
  }

  boolean(name: string): boolean {
    return this.raw(name) === true;
  }

  /** An integer in [min, max]. */
  int(name: string, min = 1, max = Number.MAX_SAFE_INTEGER): number {
    const text = this.string(name);
    const n = text === undefined ? NaN : Number(text);
    if (!Number.isInteger(n) || n < min || n > max) {
      const range = max === Number.MAX_SAFE_INTEGER ? `${min} or more` : `from ${min} to ${max}`;
      throw this.invalid(name, `--${name} must be an integer ${range}, got ${text ?? 'nothing'}`);
    }
    return n;
  }

  /** One of `choices`. */
  choice<T extends string>(name: string, choices: readonly T[]): T {
    const text = this.string(name);
    const found = choices.find((c) => c === text);
    if (found === undefined) {
      throw this.invalid(name, `--${name} must be one of ${choices.join(', ')}, got ${text ?? 'nothing'}`);
    }
    return found;
  }

  /** A comma-separated list, each item one of `choices`; empty when the flag is absent. */
  list<T extends string>(name: string, choices: readonly T[]): T[] {
    const text = this.string(name);
    if (text === undefined || text === '') return [];
    return text.split(',').map((item) => {
      const found = choices.find((c) => c === item.trim());
      if (found === undefined) {
        throw this.invalid(name, `--${name} takes a comma-separated list of ${choices.join(', ')}, got ${item}`);
      }
      return found;
    });
  }

  private raw(name: string): string | boolean | undefined {
    if (!(name in this.specs)) throw new Error(`flag --${name} is read but not declared by the scenario`);
    const v = this.values[name];
    // parseArgs is called without `multiple`, so arrays do not occur; take the last if one does.
    return Array.isArray(v) ? v[v.length - 1] : v;
  }

  private invalid(name: string, message: string): InvalidError {
    return new InvalidError(message, [{ path: `--${name}`, message }]);
  }
}
