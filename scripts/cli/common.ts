// Shared by the CLI commands: argument parsing with clear errors, and where things live.

import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { InputError, phrase, wholeNumber } from '../../actions/lib/core/input.ts';
import { terminalText } from '../../actions/lib/core/escape.ts';
import { didYouMean } from '../../actions/lib/core/text.ts';
import { loadClaims } from '../../actions/lib/analyse/claims/file.ts';
import type { ClaimsFile } from '../../actions/lib/analyse/claims/schema.ts';

export { formatDuration } from '../../actions/lib/measure/sweep-events.ts';

/** Command-line misuse: exit status 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/**
 * Runs `parse` on values that came from options: an InputError it raises names its field, which
 * is the option's name, so it becomes a UsageError worded as the flag ("--index: ...").
 */
export function asOptions<T>(parse: () => T): T {
  try {
    return parse();
  } catch (e) {
    if (e instanceof InputError) throw new UsageError(phrase(`--${e.field}`, e.problem));
    throw e;
  }
}

export const REPO_DIR = fileURLToPath(new URL('../..', import.meta.url));
export const PLANS_DIR = join(REPO_DIR, 'env', 'plans');

export function parseCommandArgs<T extends ParseArgsOptionsConfig>(
  args: string[],
  options: T,
  allowPositionals = false,
) {
  try {
    return parseArgs({ args, options, allowPositionals, strict: true });
  } catch (e) {
    const message = (e as Error).message.replace(/^TypeError \[[A-Z_]+\]: /, '');
    const unknown = /^Unknown option '(--?[^']+)'/.exec(message);
    if (unknown) {
      const known = Object.keys(options).map((o) => `--${o}`);
      throw new UsageError(
        `unknown option ${unknown[1]}${didYouMean(unknown[1]!, known)}; this command takes ${known.join(', ')}`,
      );
    }
    throw new UsageError(message);
  }
}

/** A whole number from an option, or a UsageError naming the option and the value. */
export function intOption(name: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  return asOptions(() => wholeNumber(name, value, { min, max }));
}

/** --rate: a link rate in Mbit/s, or "off" for an unshaped link. */
export function rateOption(value: string | undefined, fallback: number | null): number | null {
  if (value === undefined) return fallback;
  if (value === 'off' || value === 'none') return null;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n > 100_000)
    throw new UsageError(
      `--rate: expected a rate in Mbit/s above 0 and at most 100000, or off; got ${JSON.stringify(value)}`,
    );
  return n;
}

export function testbedIndexOption(value: string | undefined): number {
  return intOption('index', value ?? process.env.VIRTNET_TESTBED_INDEX, 0, 63) ?? 0;
}

/**
 * The CLI's terminal sink: everything it prints goes through terminalText (core/escape.ts), so no
 * outside text (a claim, a run's labels, an error quoting a file) can send a control sequence.
 */
export function print(text: string): void {
  process.stdout.write(terminalText(text));
}

/** print() for stderr. */
export function printError(text: string): void {
  process.stderr.write(terminalText(text));
}

/** One line on stdout, through the terminal sink. */
export function say(line: string): void {
  print(`${line}\n`);
}

/** One line on stderr, through the terminal sink. */
export function sayError(line: string): void {
  printError(`${line}\n`);
}

/** --claims: a built-in claims name (env/plans/<name>-claims.json) or a file, read through the schema. */
export function claimsOption(value: string | undefined): ClaimsFile {
  return loadClaims(value ?? 'paper', PLANS_DIR);
}
