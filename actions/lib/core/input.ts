// Values given to virtnet (options, action inputs, settings): the typed error a bad one raises and
// the checks shared by the command line, the actions and the library.
//
// The library never says how a value was given. It names the value by its field ("index",
// "threshold", "env") and says what is wrong; the command line words the field as a flag
// (`--index: ...`, scripts/cli/common.ts) and an action as an input (`input index: ...`,
// action/inputs.ts), so one check serves both and neither recognises the other's messages.

export class InputError extends Error {
  override name = 'InputError';
  /** The value's name as the library knows it. */
  readonly field: string;
  /** What is wrong with the value and what was expected, quoting the value. */
  readonly problem: string;
  /** `message` defaults to the field and the problem as one phrase. */
  constructor(field: string, problem: string, message = phrase(field, problem)) {
    super(message);
    this.field = field;
    this.problem = problem;
  }
}

/**
 * A field (however it is worded: "env", "--env", "input env") and its problem as one phrase:
 * "--env is required: ..." for a problem that says what the field is, "--env: expected ..." else.
 */
export function phrase(field: string, problem: string): string {
  return problem.startsWith('is ') ? `${field} ${problem}` : `${field}: ${problem}`;
}

export function quoted(value: string): string {
  return JSON.stringify(value);
}

/** A whole number written in decimal (a sign allowed, nothing else), within [min, max]. */
export function wholeNumber(field: string, text: string, range: { min: number; max: number }): number {
  const n = Number(text);
  if (!/^-?\d+$/.test(text) || !Number.isSafeInteger(n))
    throw new InputError(field, `expected a whole number, got ${quoted(text)}`);
  if (n < range.min || n > range.max)
    throw new InputError(field, `${n} is out of range: expected ${range.min} to ${range.max}`);
  return n;
}

/** One of a fixed list of words. */
export function oneOf<T extends string>(field: string, text: string, choices: readonly T[]): T {
  if (!(choices as readonly string[]).includes(text))
    throw new InputError(field, `expected one of ${choices.join(', ')}, got ${quoted(text)}`);
  return text as T;
}
