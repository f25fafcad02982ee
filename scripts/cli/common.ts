// Shared by the CLI commands: argument parsing with clear errors, and where things live.

import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export class UsageError extends Error {
  override name = 'UsageError';
}

export const REPO_DIR = fileURLToPath(new URL('../..', import.meta.url));
export const PLANS_DIR = join(REPO_DIR, 'env', 'plans');

export function parseCommandArgs<T extends ParseArgsOptionsConfig>(args: string[], options: T, allowPositionals = false) {
  try {
    return parseArgs({ args, options, allowPositionals, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message.replace(/^TypeError \[[A-Z_]+\]: /, ''));
  }
}

/** A whole number from an option, or a UsageError naming the option and the value. */
export function intOption(name: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^-?\d+$/.test(value) || !Number.isSafeInteger(n)) throw new UsageError(`--${name}: expected a whole number, got ${JSON.stringify(value)}`);
  if (n < min || n > max) throw new UsageError(`--${name}: ${n} is out of range: expected ${min} to ${max}`);
  return n;
}

/** --rate: a link rate in Mbit/s, or "off" for an unshaped link. */
export function rateOption(value: string | undefined, fallback: number | null): number | null {
  if (value === undefined) return fallback;
  if (value === 'off' || value === 'none') return null;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n > 100_000) throw new UsageError(`--rate: expected a rate in Mbit/s above 0 and at most 100000, or off; got ${JSON.stringify(value)}`);
  return n;
}

export function testbedIndexOption(value: string | undefined): number {
  return intOption('index', value ?? process.env.VIRTNET_TESTBED_INDEX, 0, 63) ?? 0;
}

export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : m > 0 ? `${m}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}
