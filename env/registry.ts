// Every environment virtnet can measure, by name, in the order `--env all` runs them.

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

export function findEnvironment(name: string): EnvironmentDriver {
  const driver = ENVIRONMENTS.find((e) => e.name === name);
  if (!driver) throw new Error(`unknown environment ${JSON.stringify(name)}: expected one of ${environmentNames().join(', ')}`);
  return driver;
}

/** Parses `--env native,docker` (or `all`) into drivers, refusing unknown and repeated names. */
export function parseEnvironmentList(value: string): EnvironmentDriver[] {
  const names = value.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (names.length === 0) throw new Error(`--env: expected a comma-separated list of ${environmentNames().join(', ')} (or all), got ${JSON.stringify(value)}`);
  if (names.length === 1 && names[0] === 'all') return [...ENVIRONMENTS];
  const seen = new Set<string>();
  return names.map((n) => {
    if (seen.has(n)) throw new Error(`--env: ${n} is listed twice`);
    seen.add(n);
    try {
      return findEnvironment(n);
    } catch (e) {
      throw new Error(`--env: ${(e as Error).message}`);
    }
  });
}
