// Every environment virtnet can measure, by name: the four base environments in the order `all`
// runs them, and the variants (env/variants.ts) made of them, each resolved to a driver.

import { InputError, quoted } from '../actions/lib/core/input.ts';
import { didYouMean } from '../actions/lib/core/text.ts';
import type { EnvironmentDriver } from '../actions/lib/measure/environment.ts';
import { nativeEnvironment } from './native/native.ts';
import { createDockerEnvironment, dockerEnvironment } from './docker/docker.ts';
import { createKvmEnvironment, kvmEnvironment } from './kvm/kvm.ts';
import { createOsvEnvironment, osvEnvironment } from './osv/osv.ts';
import { cleanupCommandEnvironments, createCommandEnvironment } from './command/command.ts';
import { createPodmanEnvironment, podmanRootlessEnvironment } from './podman/podman.ts';
import {
  type Base,
  completeOptions,
  type DockerOptions,
  type GuestOptions,
  type KvmOptions,
  loadVariants,
  type PodmanOptions,
  type Variant,
  type VariantBase,
  VARIANTS_FILES,
} from './variants.ts';

// The paper's order: the host, the container, the Linux guest, the unikernel.
export const ENVIRONMENTS: readonly EnvironmentDriver[] = [
  nativeEnvironment,
  dockerEnvironment,
  kvmEnvironment,
  osvEnvironment,
];

/**
 * What `virtnet cleanup` asks to remove what killed runs left: the four bases' leftovers, those of
 * rootless Podman (a base of variants only; its cleanup finds its containers by label, whatever the
 * variant's network), and the start processes of any command variant (found by the label they were
 * registered under).
 */
export const CLEANUPS: readonly ((onlyIndex: number | null) => Promise<string[]>)[] = [
  ...[...ENVIRONMENTS, podmanRootlessEnvironment].map((e) => (onlyIndex: number | null) => e.cleanup(onlyIndex)),
  cleanupCommandEnvironments,
];

export function environmentNames(): string[] {
  return ENVIRONMENTS.map((e) => e.name);
}

/**
 * A variant's driver: its base's driver made with its options, under its name, whose started
 * environment records its base and options in the manifest (environmentDescriptions[name].variant).
 */
export function variantDriver(variant: Variant): EnvironmentDriver {
  const { name, title } = variant;
  const o = variant.options;
  const driver = ((): EnvironmentDriver => {
    switch (variant.base) {
      case 'native':
        return { ...nativeEnvironment, name, title };
      case 'docker':
        return createDockerEnvironment({
          name,
          title,
          network: o.network as DockerOptions['network'],
          runtime: o.runtime as DockerOptions['runtime'],
        });
      case 'kvm':
        return createKvmEnvironment({
          name,
          title,
          nic: o.nic as GuestOptions['nic'],
          vhost: o.vhost as GuestOptions['vhost'],
          machine: o.machine as KvmOptions['machine'],
        });
      case 'osv':
        return createOsvEnvironment({ name, title, vhost: o.vhost as GuestOptions['vhost'] });
      case 'podman':
        return createPodmanEnvironment({ name, title, network: o.network as PodmanOptions['network'] });
      case 'command':
        if (!variant.command) throw new Error(`variant ${name}: a command variant without its commands`);
        return createCommandEnvironment({ name, title, spec: variant.command });
    }
  })();
  return withVariant(driver, variant.base, o);
}

/** The driver, whose started environment's description carries its base and options. */
function withVariant(driver: EnvironmentDriver, base: VariantBase, options: Record<string, string>): EnvironmentDriver {
  return {
    ...driver,
    start: async (ctx) => {
      const started = await driver.start(ctx);
      return {
        ...started,
        description: { ...started.description, name: driver.name, variant: { base, options: { ...options } } },
      };
    },
  };
}

/** The base environments as drivers that record their (default) options, like any variant. */
const BASE_DRIVERS: readonly EnvironmentDriver[] = ENVIRONMENTS.map((d) =>
  withVariant(d, d.name as Base, completeOptions(d.name as Base)),
);

/** Every environment name that resolves: the bases, then the variants in their files' order. */
export function knownEnvironmentNames(variants: readonly Variant[] = loadVariants()): string[] {
  return [...environmentNames(), ...variants.map((v) => v.name)];
}

/**
 * The driver of an environment or variant name; an InputError (field "environment") for any other
 * name. `variants`: the checkout's by default (built-in, the repository's own); loadVariants(FILE) adds a user's.
 */
export function findEnvironment(name: string, variants: readonly Variant[] = loadVariants()): EnvironmentDriver {
  const base = BASE_DRIVERS.find((e) => e.name === name);
  if (base) return base;
  const variant = variants.find((v) => v.name === name);
  if (variant) return variantDriver(variant);
  const problem = `unknown environment ${quoted(name)}${didYouMean(name, knownEnvironmentNames(variants))}: expected one of ${knownEnvironmentNames(variants).join(', ')} (or a variant defined in ${VARIANTS_FILES.repository} or a --variants file)`;
  throw new InputError('environment', problem, problem);
}

/**
 * Parses a comma-separated list of environments and variants (`native,docker,docker-host`, or
 * `all` for the four bases) into drivers, refusing unknown and repeated names: an InputError with
 * the field "env" (the CLI's --env).
 */
export function parseEnvironmentList(
  value: string,
  variants: readonly Variant[] = loadVariants(),
): EnvironmentDriver[] {
  const names = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (names.length === 0)
    throw new InputError(
      'env',
      `expected a comma-separated list of ${knownEnvironmentNames(variants).join(', ')} (or all), got ${quoted(value)}`,
    );
  if (names.length === 1 && names[0] === 'all') return [...BASE_DRIVERS];
  const seen = new Set<string>();
  return names.map((n) => {
    if (seen.has(n)) throw new InputError('env', `${n} is listed twice`);
    seen.add(n);
    try {
      return findEnvironment(n, variants);
    } catch (e) {
      throw new InputError('env', (e as InputError).problem);
    }
  });
}
