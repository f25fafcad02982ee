// Environment variants as data: a named environment made of a base environment (native, docker,
// kvm, osv) and options that base declares (docker's network and runtime, a guest's NIC and vhost-net). The
// built-in variants are in env/variants.json; a user adds their own in a file of the same form
// (`virtnet run --variants FILE`), with no code. Pure: the schema, the options each base takes,
// and the resolution of a name; reading the files is at the end, through core/safe-read.ts.

import { existsSync } from 'node:fs';
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

/** The paper's four environments, in its order: every variant is one of them with options. */
export const BASES = ['native', 'docker', 'kvm', 'osv'] as const;
export type Base = (typeof BASES)[number];

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
} as const satisfies Record<Base, Record<string, OptionDeclaration>>;

export type DockerOptions = {
  network: (typeof BASE_OPTIONS.docker.network.values)[number];
  runtime: (typeof BASE_OPTIONS.docker.runtime.values)[number];
};
export type GuestOptions = { nic: 'virtio' | 'e1000'; vhost: 'auto' | 'on' | 'off' };

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

export const variantSchema = z.discriminatedUnion('base', [
  variantSchemaOf('native'),
  variantSchemaOf('docker'),
  variantSchemaOf('kvm'),
  variantSchemaOf('osv'),
]);

export const variantsFileSchema = strict({
  $schema: text({ max: 1000 }, 'The JSON Schema of variants files, for editors; not part of the variants.').optional(),
  $comment: text({ max: 10_000, empty: true }, 'A remark for readers of the file.').optional(),
  variants: list(variantSchema, { max: 100 }, 'Named environments, each a base environment with options.'),
});

/** A variant with every option given (defaults filled in). */
export interface Variant {
  name: string;
  base: Base;
  options: Record<string, string>;
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
function semanticProblems(variants: readonly z.output<typeof variantSchema>[], taken: ReadonlySet<string>): Problem[] {
  const problems: Problem[] = [];
  const seen = new Set<string>();
  variants.forEach((v, i) => {
    if ((BASES as readonly string[]).includes(v.name) || v.name === 'all')
      problems.push({
        path: `variants[${i}].name`,
        message: `${quoted(v.name)} is the name of ${v.name === 'all' ? 'every base environment' : 'a base environment'}; a variant needs a name of its own`,
      });
    else if (taken.has(v.name))
      problems.push({
        path: `variants[${i}].name`,
        message: `${quoted(v.name)} is a built-in variant already (env/variants.json); choose another name`,
      });
    else if (seen.has(v.name))
      problems.push({ path: `variants[${i}].name`, message: `${quoted(v.name)} is defined twice in this file` });
    seen.add(v.name);
    const options = (v.options ?? {}) as Record<string, string | undefined>;
    if ((v.base === 'kvm' || v.base === 'osv') && options.nic === 'e1000' && options.vhost === 'on') {
      problems.push({
        path: `variants[${i}].options.vhost`,
        message: '"on" needs nic virtio: vhost-net serves only virtio-net, not an emulated e1000',
      });
    }
  });
  return problems;
}

/**
 * The variants of a parsed file, checked and completed: an InputError (field "variants") naming
 * `file`, each field path and its value for every problem. `taken`: names defined already.
 */
export function validateVariants(raw: unknown, file: string, taken: ReadonlySet<string> = new Set()): Variant[] {
  const parsed = variantsFileSchema.safeParse(raw, { reportInput: true });
  const header = `invalid variants file ${file}`;
  if (!parsed.success) throw new InputError('variants', formatProblems(header, problemsOf(parsed.error)));
  const problems = semanticProblems(parsed.data.variants, taken);
  if (problems.length > 0) throw new InputError('variants', formatProblems(header, problems));
  return parsed.data.variants.map((v) => ({
    name: v.name,
    base: v.base,
    options: completeOptions(v.base, (v.options ?? {}) as Record<string, string | undefined>),
    title: v.title ?? v.name,
    description: v.description ?? '',
    source: file,
  }));
}

/** A variants file is a few kilobytes; a megabyte is no variants file. */
export const VARIANTS_MAX_BYTES = 1 * MiB;

export const BUILT_IN_VARIANTS_FILE = fileURLToPath(new URL('./variants.json', import.meta.url));

/** Reads and checks a variants file; every problem is an InputError (field "variants") naming the file. */
export function loadVariantsFile(path: string, taken: ReadonlySet<string> = new Set()): Variant[] {
  if (!existsSync(path)) throw new InputError('variants', `variants file ${path} does not exist`);
  let contents: string;
  try {
    contents = readRegularFile(path, { maxBytes: VARIANTS_MAX_BYTES });
  } catch (e) {
    throw new InputError('variants', `variants file ${path}: ${(e as Error).message}`);
  }
  const raw = parseJson(
    contents,
    (reason) => new InputError('variants', `variants file ${path} is not valid JSON: ${reason}`),
  );
  return validateVariants(raw, path, taken);
}

/** env/variants.json, shown by its path in the repository in messages. */
export function builtInVariants(): Variant[] {
  const raw = parseJson(
    readRegularFile(BUILT_IN_VARIANTS_FILE, { maxBytes: VARIANTS_MAX_BYTES }),
    (reason) => new InputError('variants', `env/variants.json is not valid JSON: ${reason}`),
  );
  return validateVariants(raw, 'env/variants.json');
}

/** The built-in variants, then those of a user's file (whose names may not shadow built-in ones). */
export function loadVariants(userFile: string | null = null): Variant[] {
  const builtIn = builtInVariants();
  if (userFile === null) return builtIn;
  return [...builtIn, ...loadVariantsFile(userFile, new Set(builtIn.map((v) => v.name)))];
}

/** A base environment as a variant of itself: its name, its default options. */
export function baseVariant(base: Base, title: string): Variant {
  return { name: base, base, options: completeOptions(base), title, description: '', source: 'built in' };
}
