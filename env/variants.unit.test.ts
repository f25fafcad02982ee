// Environment variants as data: the built-in file, a user's file, every refusal naming the file,
// the field and the value, and resolution of --env lists into drivers.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../actions/lib/core/input.ts';
import { environmentDescriptionSchema } from '../actions/lib/measure/records.ts';
import { findEnvironment, knownEnvironmentNames, parseEnvironmentList } from './registry.ts';
import {
  BASE_OPTIONS,
  builtInVariants,
  completeOptions,
  loadVariants,
  loadVariantsFile,
  validateVariants,
} from './variants.ts';

const work = mkdtempSync(join(tmpdir(), 'virtnet-variants-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function userFile(name: string, contents: unknown): string {
  const path = join(work, name);
  writeFileSync(path, typeof contents === 'string' ? contents : JSON.stringify(contents));
  return path;
}

/** The InputError a bad variants document raises. */
function refusal(raw: unknown, file = 'my-variants.json'): InputError {
  try {
    validateVariants(raw, file);
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return e as InputError;
  }
  throw new Error('the document was accepted');
}

describe('the built-in variants (env/variants.json)', () => {
  it('define docker-host, gvisor, gvisor-host, kvm-e1000, kvm-vhost, kvm-microvm, osv-vhost and the rootless podmans with every option filled in', () => {
    const byName = new Map(builtInVariants().map((v) => [v.name, v]));
    expect([...byName.keys()]).toEqual([
      'docker-host',
      'gvisor',
      'gvisor-host',
      'kvm-e1000',
      'kvm-vhost',
      'kvm-microvm',
      'osv-vhost',
      'podman-rootless',
      'podman-rootless-rootlesskit',
      'podman-rootless-pasta',
    ]);
    expect(byName.get('podman-rootless')).toMatchObject({ base: 'podman', options: { network: 'slirp4netns' } });
    expect(byName.get('podman-rootless-rootlesskit')).toMatchObject({
      base: 'podman',
      options: { network: 'slirp4netns-rootlesskit' },
    });
    expect(byName.get('podman-rootless-pasta')).toMatchObject({ base: 'podman', options: { network: 'pasta' } });
    expect(byName.get('docker-host')).toMatchObject({ base: 'docker', options: { network: 'host', runtime: 'runc' } });
    expect(byName.get('gvisor')).toMatchObject({ base: 'docker', options: { network: 'bridge', runtime: 'runsc' } });
    expect(byName.get('gvisor-host')).toMatchObject({ base: 'docker', options: { network: 'host', runtime: 'runsc' } });
    expect(byName.get('kvm-e1000')).toMatchObject({ base: 'kvm', options: { nic: 'e1000', vhost: 'off' } });
    expect(byName.get('kvm-vhost')).toMatchObject({ base: 'kvm', options: { nic: 'virtio', vhost: 'on' } });
    expect(byName.get('kvm-microvm')).toMatchObject({
      base: 'kvm',
      options: { nic: 'virtio', vhost: 'auto', machine: 'microvm' },
    });
    expect(byName.get('kvm-e1000')!.options.machine).toBe('q35');
    expect(byName.get('osv-vhost')).toMatchObject({ base: 'osv', options: { nic: 'virtio', vhost: 'on' } });
    for (const v of byName.values()) expect(v.title.length, v.name).toBeGreaterThan(0);
  });

  it('the bases take exactly the options they declare, with defaults', () => {
    expect(completeOptions('native')).toEqual({});
    expect(completeOptions('docker')).toEqual({ network: 'bridge', runtime: 'runc' });
    expect(completeOptions('docker', { runtime: 'runsc' })).toEqual({ network: 'bridge', runtime: 'runsc' });
    expect(completeOptions('kvm', { nic: 'e1000' })).toEqual({ nic: 'e1000', vhost: 'auto', machine: 'q35' });
    expect(BASE_OPTIONS.osv.nic.values).toEqual(['virtio']);
    expect(completeOptions('podman')).toEqual({ network: 'slirp4netns' });
  });
});

describe('a user variants file', () => {
  const file = userFile('mine.json', {
    variants: [
      { name: 'kvm-novhost', base: 'kvm', options: { vhost: 'off' }, title: 'Linux guest without vhost-net' },
      { name: 'native-again', base: 'native' },
    ],
  });

  it('adds variants without code: they resolve in --env lists next to bases and built-ins', () => {
    const variants = loadVariants(file);
    expect(knownEnvironmentNames(variants)).toEqual([
      'native',
      'docker',
      'kvm',
      'osv',
      'docker-host',
      'gvisor',
      'gvisor-host',
      'kvm-e1000',
      'kvm-vhost',
      'kvm-microvm',
      'osv-vhost',
      'podman-rootless',
      'podman-rootless-rootlesskit',
      'podman-rootless-pasta',
      'kvm-novhost',
      'native-again',
    ]);
    const drivers = parseEnvironmentList('native,docker-host,kvm-novhost,native-again', variants);
    expect(drivers.map((d) => d.name)).toEqual(['native', 'docker-host', 'kvm-novhost', 'native-again']);
    expect(drivers[2]!.title).toBe('Linux guest without vhost-net');
    expect(variants.find((v) => v.name === 'kvm-novhost')).toMatchObject({
      base: 'kvm',
      options: { nic: 'virtio', vhost: 'off', machine: 'q35' },
      source: file,
    });
  });

  it('is needed for its names: without it they are unknown, and the error says how to define them', () => {
    expect(() => parseEnvironmentList('native,kvm-novhost')).toThrow(
      /^env: unknown environment "kvm-novhost" \(did you mean kvm-vhost\?\): expected one of native, docker, kvm, osv, docker-host, gvisor, gvisor-host, kvm-e1000, kvm-vhost, kvm-microvm, osv-vhost, podman-rootless, podman-rootless-rootlesskit, podman-rootless-pasta \(or a variant defined in env\/user-variants.json or a --variants file\)$/,
    );
  });

  it('may not shadow a built-in variant or a base, nor define a name twice', () => {
    const shadow = userFile('shadow.json', { variants: [{ name: 'docker-host', base: 'docker' }] });
    expect(() => loadVariants(shadow)).toThrow(
      `invalid variants file ${shadow}: variants[0].name: "docker-host" is a built-in variant already (env/variants.json); choose another name`,
    );
    expect(refusal({ variants: [{ name: 'kvm', base: 'kvm', options: { nic: 'e1000' } }] }).message).toBe(
      'variants: invalid variants file my-variants.json: variants[0].name: "kvm" is the name of a base environment; a variant needs a name of its own',
    );
    expect(refusal({ variants: [{ name: 'all', base: 'native' }] }).message).toMatch(
      /variants\[0\]\.name: "all" is the name of every base environment/,
    );
    expect(
      refusal({
        variants: [
          { name: 'a', base: 'native' },
          { name: 'a', base: 'docker' },
        ],
      }).message,
    ).toMatch(/variants\[1\]\.name: "a" is defined twice in this file/);
  });

  it('missing, not JSON, or not a regular file: refused naming the file', () => {
    expect(() => loadVariantsFile(join(work, 'absent.json'))).toThrow(
      `variants file ${join(work, 'absent.json')} does not exist`,
    );
    const broken = userFile('broken.json', '{"variants": [');
    expect(() => loadVariantsFile(broken)).toThrow(
      new RegExp(`^variants: variants file ${broken} is not valid JSON: `),
    );
    expect(() => loadVariantsFile(work)).toThrow(/variants file .*: /);
  });
});

describe('every bad value is refused naming the file, the field and the value', () => {
  it('an option the base does not take', () => {
    const e = refusal({ variants: [{ name: 'docker-fast', base: 'docker', options: { speed: 'fast' } }] });
    expect(e.field).toBe('variants');
    expect(e.message).toBe(
      'variants: invalid variants file my-variants.json: variants[0].options.speed: unknown field (known: network, runtime)',
    );
    expect(refusal({ variants: [{ name: 'n', base: 'native', options: { nic: 'e1000' } }] }).message).toMatch(
      /variants\[0\]\.options\.nic: unknown field \(known: \)/,
    );
  });

  it('a value the option does not have', () => {
    expect(refusal({ variants: [{ name: 'kvm-rtl', base: 'kvm', options: { nic: 'rtl8139' } }] }).message).toBe(
      'variants: invalid variants file my-variants.json: variants[0].options.nic: "rtl8139" is not one of virtio, e1000',
    );
    expect(refusal({ variants: [{ name: 'd', base: 'docker', options: { network: 'none' } }] }).message).toMatch(
      /variants\[0\]\.options\.network: "none" is not one of bridge, host/,
    );
    expect(
      refusal({ variants: [{ name: 'kata', base: 'docker', options: { runtime: 'kata-runtime' } }] }).message,
    ).toBe(
      'variants: invalid variants file my-variants.json: variants[0].options.runtime: "kata-runtime" is not one of runc, runsc',
    );
    // OSv has no e1000 driver: its nic takes virtio only.
    expect(refusal({ variants: [{ name: 'osv-e1000', base: 'osv', options: { nic: 'e1000' } }] }).message).toMatch(
      /variants\[0\]\.options\.nic: "e1000" is not one of virtio$/,
    );
    expect(refusal({ variants: [{ name: 'k', base: 'kvm', options: { vhost: true } }] }).message).toMatch(
      /variants\[0\]\.options\.vhost: true is not one of auto, on, off/,
    );
    expect(refusal({ variants: [{ name: 'p', base: 'podman', options: { network: 'bridge' } }] }).message).toBe(
      'variants: invalid variants file my-variants.json: variants[0].options.network: "bridge" is not one of slirp4netns, slirp4netns-rootlesskit, pasta',
    );
    expect(refusal({ variants: [{ name: 'p', base: 'podman', options: { nic: 'e1000' } }] }).message).toMatch(
      /variants\[0\]\.options\.nic: unknown field \(known: network\)/,
    );
  });

  it('an unknown base, a bad name, a missing field, an unknown field', () => {
    expect(refusal({ variants: [{ name: 'x', base: 'xen' }] }).message).toMatch(
      /variants\[0\]\.base: "xen" is not one of native, docker, kvm, osv, podman/,
    );
    expect(refusal({ variants: [{ name: 'Docker Host', base: 'docker' }] }).message).toMatch(
      /variants\[0\]\.name: "Docker Host" does not fit: expected lower-case letters/,
    );
    expect(refusal({ variants: [{ base: 'docker' }] }).message).toMatch(
      /variants\[0\]\.name: expected a non-empty string, got nothing/,
    );
    expect(refusal({ variants: [{ name: 'd', base: 'docker', network: 'host' }] }).message).toMatch(
      /variants\[0\]\.network: unknown field/,
    );
    expect(refusal({ variant: [] }).message).toMatch(/variant: unknown field/);
  });

  it('vhost-net on with an e1000 NIC, which vhost-net cannot serve', () => {
    expect(refusal({ variants: [{ name: 'k', base: 'kvm', options: { nic: 'e1000', vhost: 'on' } }] }).message).toBe(
      'variants: invalid variants file my-variants.json: variants[0].options.vhost: "on" needs nic virtio: vhost-net serves only virtio-net, not an emulated e1000',
    );
  });

  it('an e1000 NIC on the microvm machine, which has no PCI bus for it', () => {
    expect(
      refusal({ variants: [{ name: 'k', base: 'kvm', options: { nic: 'e1000', machine: 'microvm' } }] }).message,
    ).toBe(
      'variants: invalid variants file my-variants.json: variants[0].options.nic: "e1000" needs machine q35: the microvm machine has no PCI bus, only virtio devices over MMIO',
    );
    expect(refusal({ variants: [{ name: 'k', base: 'kvm', options: { machine: 'firecracker' } }] }).message).toMatch(
      /variants\[0\]\.options\.machine: "firecracker" is not one of q35, microvm$/,
    );
  });

  it('lists every problem at once', () => {
    const e = refusal({
      variants: [
        { name: 'a', base: 'kvm', options: { nic: 'x' } },
        { name: 'b', base: 'docker', options: { network: 'y' } },
      ],
    });
    expect(e.message).toMatch(/variants\[0\]\.options\.nic: "x"[\s\S]*variants\[1\]\.options\.network: "y"/);
  });
});

describe('resolution', () => {
  it('all is the four bases; a name listed twice or unknown is refused with the field env', () => {
    // The paper's four: bases that exist only through variants (podman) are not in `all`.
    expect(parseEnvironmentList('all').map((d) => d.name)).toEqual(['native', 'docker', 'kvm', 'osv']);
    expect(parseEnvironmentList('podman-rootless').map((d) => [d.name, d.title])).toEqual([
      ['podman-rootless', 'Podman rootless (slirp4netns)'],
    ]);
    expect(() => findEnvironment('podman')).toThrow(/unknown environment "podman" \(did you mean podman-rootless\?\)/);
    expect(parseEnvironmentList('native,docker,docker-host').map((d) => d.name)).toEqual([
      'native',
      'docker',
      'docker-host',
    ]);
    expect(() => parseEnvironmentList('docker-host,docker-host')).toThrow('env: docker-host is listed twice');
    expect(() => findEnvironment('docker-hots')).toThrow(/unknown environment "docker-hots"/);
  });

  it('a vhost variant is unavailable on a host without /dev/vhost-net, with the reason', async ({ skip }) => {
    const { existsSync } = await import('node:fs');
    if (existsSync('/dev/vhost-net')) skip('this host has /dev/vhost-net: the refusal cannot be seen here');
    for (const name of ['kvm-vhost', 'osv-vhost']) {
      const a = await findEnvironment(name).available({ osvImage: '/nonexistent' });
      expect(a.ok, name).toBe(false);
      expect(!a.ok && a.reason, name).toMatch(
        /^vhost-net asked for \(vhost on\), but \/dev\/vhost-net is missing: this host's kernel has no vhost_net/,
      );
    }
  });

  it("the manifest's description schema takes a variant's base and options, and still loads one without", () => {
    const d = { name: 'docker-host', summary: 's', details: {}, accelerator: 'none', startupSeconds: 1 };
    expect(environmentDescriptionSchema.parse(d)).toEqual(d);
    expect(
      environmentDescriptionSchema.parse({ ...d, variant: { base: 'docker', options: { network: 'host' } } }).variant,
    ).toEqual({ base: 'docker', options: { network: 'host' } });
    expect(
      environmentDescriptionSchema.safeParse({
        ...d,
        variant: { base: 'docker', options: { network: 'host' }, extra: 1 },
      }).success,
    ).toBe(false);
  });
});
