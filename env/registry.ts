// Every environment virtnet can measure, by name, in the order `all` runs them.

import { InputError, quoted } from '../actions/lib/core/input.ts';
import type { EnvironmentDriver } from '../actions/lib/measure/environment.ts';
import { nativeEnvironment } from './native/native.ts';
import { dockerEnvironment } from './docker/docker.ts';
import { kvmEnvironment } from './kvm/kvm.ts';
import { osvEnvironment } from './osv/osv.ts';

// The paper's order: the host, the container, the Linux guest, the unikernel.
export const ENVIRONMENTS: readonly EnvironmentDriver[] = [
  nativeEnvironment,
  dockerEnvironment,
  kvmEnvironment,
  osvEnvironment,
];

export function environmentNames(): string[] {
  return ENVIRONMENTS.map((e) => e.name);
}

/** The driver of an environment name; an InputError (field "environment") for any other name. */
export function findEnvironment(name: string): EnvironmentDriver {
  const driver = ENVIRONMENTS.find((e) => e.name === name);
  if (!driver) {
    const problem = `unknown environment ${quoted(name)}: expected one of ${environmentNames().join(', ')}`;
    throw new InputError('environment', problem, problem);
  }
  return driver;
}

/**
 * Parses a comma-separated list of environments (`native,docker`, or `all`) into drivers, refusing
 * unknown and repeated names: an InputError with the field "env" (the CLI's --env).
 */
export function parseEnvironmentList(value: string): EnvironmentDriver[] {
  const names = value.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (names.length === 0) throw new InputError('env', `expected a comma-separated list of ${environmentNames().join(', ')} (or all), got ${quoted(value)}`);
  if (names.length === 1 && names[0] === 'all') return [...ENVIRONMENTS];
  const seen = new Set<string>();
  return names.map((n) => {
    if (seen.has(n)) throw new InputError('env', `${n} is listed twice`);
    seen.add(n);
    try {
      return findEnvironment(n);
    } catch (e) {
      throw new InputError('env', (e as InputError).problem);
    }
  });
}
