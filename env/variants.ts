// Environment variants as data: a named environment made of a base environment (native, docker,
// kvm, osv, podman) and options that base declares (docker's network and runtime, a guest's NIC and
// vhost-net, rootless Podman's user-mode network), or of the `command` base: start, ready and stop
// commands the user gives (env/command/spec.ts). The built-in variants are in env/variants.json; a
// user adds their own in a file of the same form (`virtnet run --variants FILE`), with no code.
// Pure: the schema, the options each base takes, and the resolution of a name; reading the files is
// at the end, through core/safe-read.ts.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type CommandSpec, commandSpecProblems, commandSpecSchema, recordedOptions } from './command/spec.ts';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { InputError, quoted } from '../actions/lib/core/input.ts';
import { MiB, readRegularFile } from '../actions/lib/core/safe-read.ts';
import {
  formatProblems,
  oneOf,
  parseJson,
  problemsOf,
  strict,
  text,
  type Problem,
  list,
} from '../actions/lib/core/schema.ts';

/**
 * The bases that take options: the paper's four environments, in its order (each also runnable by
 * its own name, and what `all` runs), then podman, a base of variants only: its rootless container
 * is named by its network (podman-rootless), so a bare "podman" would say too little.
 */
export const BASES = ['native', 'docker', 'kvm', 'osv', 'podman'] as const;
export type Base = (typeof BASES)[number];
/** Bases that exist only through variants: no environment has their bare name. */
export const VARIANT_ONLY_BASES: readonly Base[] = ['podman'];

/** The base of a variant that brings its own start, ready and stop commands. */
export const COMMAND_BASE = 'command';
export type VariantBase = Base | typeof COMMAND_BASE;

interface OptionDeclaration {
  values: readonly [string, ...string[]];
  default: string;
  meaning: string;
}

const GUEST_VHOST: OptionDeclaration = {
  values: ['auto', 'on', 'off'],
  default: 'auto',
  meaning:
    "vhost-net on the guest's tap (QEMU vhost=on), which moves the virtio-net data path into the host kernel: on (refused where the host has no /dev/vhost-net), off, or auto (on where the host has it, as libvirt does).",
};

/**
 * The options each base takes, their values and defaults. One fact in one place: the variants
 * schema, the JSON Schema for editors and the drivers' option types all come from this table.
 */
export const BASE_OPTIONS = {
  native: {},
  docker: {
    network: {
      values: ['bridge', 'host'],
      default: 'bridge',
      meaning:
        "The container's network: bridge (docker's default bridge, ports published by kernel DNAT, as in the paper) or host (the container in the server's own network namespace, --network host, netserver bound to the testbed address).",
    },
    runtime: {
      values: ['runc', 'runsc'],
      default: 'runc',
      meaning:
        "The OCI runtime that runs the container: runc (docker's default: netserver's sockets are the host kernel's) or runsc (gVisor: netserver's system calls go to gVisor's user-space kernel; on the bridge network packets go through gVisor's own network stack, on the host network through the host's sockets, runsc --network=host). runsc must be registered with dockerd as the runtimes runsc and runsc-host (scripts/start-dockerd.sh does).",
    },
  },
  kvm: {
    nic: {
      values: ['virtio', 'e1000'],
      default: 'virtio',
      meaning:
        "The guest's NIC as QEMU emulates it: virtio (virtio-net-pci, paravirtual) or e1000 (an emulated Intel 82540EM).",
    },
    vhost: GUEST_VHOST,
    machine: {
      values: ['q35', 'microvm'],
      default: 'q35',
      meaning:
        "The machine QEMU emulates: q35 (a PC with PCI Express and firmware, as libvirt gives) or microvm (QEMU's minimal machine of the Firecracker design: no PCI, no legacy PC devices, virtio-net over MMIO; only the virtio NIC).",
    },
  },
  osv: {
    // OSv's x64 network drivers are virtio-net, vmxnet3 and xenfront: it has no e1000 driver.
    nic: {
      values: ['virtio'],
      default: 'virtio',
      meaning:
        "The guest's NIC: virtio (virtio-net-pci). OSv has no e1000 driver (its x64 network drivers are virtio-net, vmxnet3 and Xen's netfront).",
    },
    vhost: GUEST_VHOST,
  },
  podman: {
    network: {
      values: ['slirp4netns', 'slirp4netns-rootlesskit', 'pasta'],
      default: 'slirp4netns',
      meaning:
        "The rootless container's user-mode network and what forwards its published ports: slirp4netns (a TCP/IP stack in a user process, libslirp) forwarding them itself; slirp4netns-rootlesskit, slirp4netns with rootless Podman's default port handler, rootlesskit's rootlessport, which copies inbound connections into the container itself; or pasta (passt's, translating to the host's own sockets; needs Podman 4.4 or later, refused with that reason by an older one).",
    },
  },
} as const satisfies Record<Base, Record<string, OptionDeclaration>>;

export type DockerOptions = {
  network: (typeof BASE_OPTIONS.docker.network.values)[number];
  runtime: (typeof BASE_OPTIONS.docker.runtime.values)[number];
};
export type GuestOptions = { nic: 'virtio' | 'e1000'; vhost: 'auto' | 'on' | 'off' };
export type PodmanOptions = { network: (typeof BASE_OPTIONS.podman.network.values)[number] };
export type KvmOptions = GuestOptions & { machine: (typeof BASE_OPTIONS.kvm.machine.values)[number] };

/** A variant's name: a command-line word, a file-name part and an action input (at most 40 characters). */
export const VARIANT_NAME = {
  re: /^[a-z][a-z0-9-]{0,39}$/,
  expected: "lower-case letters, digits and '-', starting with a letter, at most 40 characters",
};

function optionsSchema(base: Base) {
  const declared = BASE_OPTIONS[base] as Record<string, OptionDeclaration>;
  const shape = Object.fromEntries(
    Object.entries(declared).map(([key, d]) => [
      key,
      oneOf(d.values, `${d.meaning} Default: ${d.default}.`).optional(),
    ]),
  );
  return strict(
    shape,
    `The options of ${base}${Object.keys(declared).length === 0 ? ' (it takes none)' : ''}; an option left out takes its default.`,
  );
}

function variantSchemaOf(base: Base) {
  return strict({
    name: text({ max: 40, pattern: VARIANT_NAME }, 'The name used with --env, in records, charts and tables.'),
    base: z.literal(base).meta({ description: 'The environment this variant is a configuration of.' }),
    options: optionsSchema(base).optional(),
    title: text({ max: 80 }, 'The name in legends and tables (default: the name).').optional(),
    description: text({ max: 1000 }, 'What the variant changes, and why one would measure it.').optional(),
  });
}

const commandVariantSchema = strict({
  name: text({ max: 40, pattern: VARIANT_NAME }, 'The name used with --env, in records, charts and tables.'),
  base: z
    .literal(COMMAND_BASE)
    .meta({ description: 'An environment of your own, started and stopped by the commands you give.' }),
  command: commandSpecSchema,
  title: text({ max: 80 }, 'The name in legends and tables (default: the name).').optional(),
  description: text({ max: 1000 }, 'What the variant is, and why one would measure it.').optional(),
});

export const variantSchema = z.discriminatedUnion('base', [
  variantSchemaOf('native'),
  variantSchemaOf('docker'),
  variantSchemaOf('kvm'),
  variantSchemaOf('osv'),
  variantSchemaOf('podman'),
  commandVariantSchema,
]);

export const variantsFileSchema = strict({
  $schema: text({ max: 1000 }, 'The JSON Schema of variants files, for editors; not part of the variants.').optional(),
  $comment: text({ max: 10_000, empty: true }, 'A remark for readers of the file.').optional(),
  variants: list(variantSchema, { max: 100 }, 'Named environments, each a base environment with options.'),
});

/** A variant with every option given (defaults filled in). */
export interface Variant {
  name: string;
  base: VariantBase;
  /** Every option given; a command variant's commands, as the manifest records them. */
  options: Record<string, string>;
  /** A command variant's commands. */
  command?: CommandSpec;
  title: string;
  description: string;
  /** Where it was defined: a file path (for messages). */
  source: string;
}

/** The options of `base` with defaults filled in for those not given. */
export function completeOptions(
  base: Base,
  given: Readonly<Record<string, string | undefined>> = {},
): Record<string, string> {
  const declared = BASE_OPTIONS[base] as Record<string, OptionDeclaration>;
  return Object.fromEntries(Object.entries(declared).map(([key, d]) => [key, given[key] ?? d.default]));
}

/** Checks across options and names the schema cannot express; every problem names its field path. */
function semanticProblems(
  variants: readonly z.output<typeof variantSchema>[],
  taken: ReadonlyMap<string, string>,
): Problem[] {
  const problems: Problem[] = [];
  const seen = new Set<string>();
  variants.forEach((v, i) => {
    if ((BASES as readonly string[]).includes(v.name) || v.name === COMMAND_BASE || v.name === 'all')
      problems.push({
        path: `variants[${i}].name`,
        message: `${quoted(v.name)} is the name of ${v.name === 'all' ? 'every base environment' : 'a base environment'}; a variant needs a name of its own`,
      });
    else if (taken.has(v.name))
      problems.push({
        path: `variants[${i}].name`,
        message:
          taken.get(v.name) === VARIANTS_FILES.builtIn
            ? `${quoted(v.name)} is a built-in variant already (${VARIANTS_FILES.builtIn}); choose another name`
            : `${quoted(v.name)} is defined already in ${taken.get(v.name)}; choose another name`,
      });
    else if (seen.has(v.name))
      problems.push({ path: `variants[${i}].name`, message: `${quoted(v.name)} is defined twice in this file` });
    seen.add(v.name);
    if (v.base === COMMAND_BASE) {
      for (const p of commandSpecProblems(v.command))
        problems.push({ path: `variants[${i}].${p.path}`, message: p.message });
      return;
    }
    const options = (v.options ?? {}) as Record<string, string | undefined>;
    if ((v.base === 'kvm' || v.base === 'osv') && options.nic === 'e1000' && options.vhost === 'on') {
      problems.push({
        path: `variants[${i}].options.vhost`,
        message: '"on" needs nic virtio: vhost-net serves only virtio-net, not an emulated e1000',
      });
    }
    if (v.base === 'kvm' && options.machine === 'microvm' && options.nic === 'e1000') {
      problems.push({
        path: `variants[${i}].options.nic`,
        message: '"e1000" needs machine q35: the microvm machine has no PCI bus, only virtio devices over MMIO',
      });
    }
  });
  return problems;
}

/**
 * The variants of a parsed file, checked and completed: an InputError (field "variants") naming
 * `file`, each field path and its value for every problem. `taken`: names defined already, by file.
 */
export function validateVariants(
  raw: unknown,
  file: string,
  taken: ReadonlyMap<string, string> = new Map(),
): Variant[] {
  const parsed = variantsFileSchema.safeParse(raw, { reportInput: true });
  const header = `invalid variants file ${file}`;
  if (!parsed.success) throw new InputError('variants', formatProblems(header, problemsOf(parsed.error)));
  const problems = semanticProblems(parsed.data.variants, taken);
  if (problems.length > 0) throw new InputError('variants', formatProblems(header, problems));
  return parsed.data.variants.map((v) => ({
    name: v.name,
    base: v.base,
    ...(v.base === COMMAND_BASE
      ? { options: recordedOptions(v.command), command: v.command }
      : { options: completeOptions(v.base, (v.options ?? {}) as Record<string, string | undefined>) }),
    title: v.title ?? v.name,
    description: v.description ?? '',
    source: file,
  }));
}

/** A variants file is a few kilobytes; a megabyte is no variants file. */
export const VARIANTS_MAX_BYTES = 1 * MiB;

/**
 * Where a checkout keeps its variants, relative to its root. One fact in one place: every reader
 * (virtnet run and serve, the workflows' check of their environments input, the start-environment
 * and run-sweep actions) finds them through checkoutVariants().
 */
export const VARIANTS_FILES = {
  /** The built-in variants. */
  builtIn: 'env/variants.json',
  /**
   * The repository's own variants, in the form of env/variants.json: committed, they run on the
   * runner pairs without code; absent, there are none. Their names may not shadow built-in ones.
   */
  repository: 'env/user-variants.json',
} as const;

const REPO_DIR = fileURLToPath(new URL('..', import.meta.url));

export const BUILT_IN_VARIANTS_FILE = join(REPO_DIR, VARIANTS_FILES.builtIn);

/**
 * Reads and checks a variants file; every problem is an InputError (field "variants") naming the
 * file (as `shown`: a checkout's files by their path in the repository).
 */
export function loadVariantsFile(
  path: string,
  taken: ReadonlyMap<string, string> = new Map(),
  shown: string = path,
): Variant[] {
  if (!existsSync(path)) throw new InputError('variants', `variants file ${shown} does not exist`);
  let contents: string;
  try {
    contents = readRegularFile(path, { maxBytes: VARIANTS_MAX_BYTES });
  } catch (e) {
    throw new InputError('variants', `variants file ${shown}: ${(e as Error).message}`);
  }
  const raw = parseJson(
    contents,
    (reason) => new InputError('variants', `variants file ${shown} is not valid JSON: ${reason}`),
  );
  return validateVariants(raw, shown, taken);
}

/** Each variant's name and the file that defines it. */
function definedIn(variants: readonly Variant[]): Map<string, string> {
  return new Map(variants.map((v) => [v.name, v.source]));
}

/** env/variants.json of this checkout. */
export function builtInVariants(): Variant[] {
  return loadVariantsFile(BUILT_IN_VARIANTS_FILE, new Map(), VARIANTS_FILES.builtIn);
}

/** The variants of the checkout at `dir`: the built-in ones, then the repository's own when it has them. */
export function checkoutVariants(dir: string = REPO_DIR): Variant[] {
  const builtIn = loadVariantsFile(join(dir, VARIANTS_FILES.builtIn), new Map(), VARIANTS_FILES.builtIn);
  const own = join(dir, VARIANTS_FILES.repository);
  if (!existsSync(own)) return builtIn;
  return [...builtIn, ...loadVariantsFile(own, definedIn(builtIn), VARIANTS_FILES.repository)];
}

/**
 * The checkout's variants (built-in, the repository's own), then those of a user's file (whose names
 * may not shadow theirs). `checkout`: this one by default.
 */
export function loadVariants(userFile: string | null = null, checkout: string = REPO_DIR): Variant[] {
  const known = checkoutVariants(checkout);
  if (userFile === null) return known;
  return [...known, ...loadVariantsFile(userFile, definedIn(known))];
}

/** Every environment the checkout at `dir` knows, with its base: the four bases, then its variants. */
export function environmentBasesOfCheckout(dir: string): Record<string, VariantBase> {
  return Object.fromEntries([
    ...BASES.filter((b) => !VARIANT_ONLY_BASES.includes(b)).map((b) => [b, b] as const),
    ...checkoutVariants(dir).map((v) => [v.name, v.base] as const),
  ]);
}

/** A base environment as a variant of itself: its name, its default options. */
export function baseVariant(base: Base, title: string): Variant {
  return { name: base, base, options: completeOptions(base), title, description: '', source: 'built in' };
}
