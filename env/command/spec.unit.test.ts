// The command base's schema and placeholders: a command variant is validated like every variant,
// and every mistake is refused naming the file, the field and the value.

import { describe, expect, it } from 'vitest';
import { InputError } from '../../actions/lib/core/input.ts';
import { findEnvironment } from '../registry.ts';
import { validateVariants } from '../variants.ts';
import { netserverAddress, type PlaceholderValues, substitute, unknownPlaceholders } from './spec.ts';

const FIRECRACKER = {
  name: 'firecracker',
  base: 'command',
  title: 'Linux on Firecracker',
  command: {
    start: ['/usr/local/bin/firecracker', '--no-api', '--config-file', '/etc/virtnet/fc-{{testbedIndex}}.json'],
    ready: ['/usr/bin/test', '-S', '/run/fc-{{testbedIndex}}.sock'],
    stop: ['/usr/local/sbin/fc-net', 'down', '{{testbedIndex}}'],
    netserver: { address: '198.19.{{testbedIndex}}.2', ownsAddress: true },
    accelerator: 'kvm',
  },
};

function refusal(variant: unknown): string {
  try {
    validateVariants({ variants: [variant] }, 'mine.json');
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return (e as Error).message;
  }
  throw new Error('the variant was accepted');
}

const VALUES: PlaceholderValues = {
  serverAddress: '198.18.9.1',
  controlPort: '12865',
  dataPort: '12866',
  testbedIndex: '9',
  logDir: '/r/logs',
  name: 'fc',
};

describe('a command variant', () => {
  it('is read with its commands, recorded as strings in the options the manifest keeps', () => {
    const [v] = validateVariants({ variants: [FIRECRACKER] }, 'mine.json');
    expect(v).toMatchObject({
      name: 'firecracker',
      base: 'command',
      title: 'Linux on Firecracker',
      source: 'mine.json',
    });
    expect(v!.command!.start[0]).toBe('/usr/local/bin/firecracker');
    expect(v!.options).toEqual({
      start: JSON.stringify(FIRECRACKER.command.start),
      ready: JSON.stringify(FIRECRACKER.command.ready),
      stop: JSON.stringify(FIRECRACKER.command.stop),
      stopTimeoutSeconds: '30',
      netserverAddress: '198.19.{{testbedIndex}}.2',
      ownsAddress: 'true',
      accelerator: 'kvm',
    });
    // Only start is required: no ready command (the probe alone), no stop command (the PID alone).
    const [bare] = validateVariants(
      { variants: [{ name: 'bare', base: 'command', command: { start: ['/usr/bin/netserver', '-D'] } }] },
      'mine.json',
    );
    expect(bare!.options).toMatchObject({
      ready: 'none',
      stop: 'none',
      netserverAddress: 'server',
      accelerator: 'none',
    });
    expect(findEnvironment('bare', [bare!]).name).toBe('bare');
  });

  it('refuses an empty argv, naming the field', () => {
    expect(refusal({ ...FIRECRACKER, command: { ...FIRECRACKER.command, start: [] } })).toBe(
      'variants: invalid variants file mine.json: variants[0].command.start: expected a non-empty list',
    );
    expect(refusal({ ...FIRECRACKER, command: { ...FIRECRACKER.command, stop: ['/bin/x', ''] } })).toBe(
      'variants: invalid variants file mine.json: variants[0].command.stop[1]: expected a non-empty string, got ""',
    );
  });

  it('refuses a program given without its absolute path (no shell, no PATH lookup)', () => {
    expect(refusal({ ...FIRECRACKER, command: { ...FIRECRACKER.command, ready: ['test', '-S', '/run/x'] } })).toBe(
      `variants: invalid variants file mine.json: variants[0].command.ready[0]: "test" is not an absolute path: give the program's full path (it runs without a shell or PATH lookup)`,
    );
    expect(refusal({ ...FIRECRACKER, command: { ...FIRECRACKER.command, start: 'firecracker --no-api' } })).toMatch(
      /variants\[0\]\.command\.start: expected a list, got "firecracker --no-api"$/,
    );
  });

  it('refuses unknown fields, in the variant and in its commands, and options (the command base takes none)', () => {
    expect(refusal({ ...FIRECRACKER, command: { ...FIRECRACKER.command, restart: ['/bin/true'] } })).toMatch(
      /^variants: invalid variants file mine\.json: variants\[0\]\.command\.restart: unknown field \(known: start, ready, stop, stopTimeoutSeconds, netserver, accelerator\)$/,
    );
    expect(refusal({ ...FIRECRACKER, options: { nic: 'virtio' } })).toMatch(
      /variants\[0\]\.options: unknown field \(known: name, base, command, title, description\)$/,
    );
    expect(
      refusal({ ...FIRECRACKER, command: { ...FIRECRACKER.command, netserver: { address: 'server', port: 1 } } }),
    ).toMatch(/variants\[0\]\.command\.netserver\.port: unknown field \(known: address, ownsAddress\)$/);
    expect(refusal({ name: 'x', base: 'command' })).toMatch(/variants\[0\]\.command: expected an object, got nothing$/);
  });

  it('refuses a placeholder it does not know, listing those it does', () => {
    expect(refusal({ ...FIRECRACKER, command: { ...FIRECRACKER.command, stop: ['/bin/kill', '{{pid}}'] } })).toBe(
      'variants: invalid variants file mine.json: variants[0].command.stop[1]: {{pid}} is not a placeholder: expected {{serverAddress}}, {{controlPort}}, {{dataPort}}, {{testbedIndex}}, {{logDir}}, {{name}}',
    );
  });

  it('refuses a netserver address that is not "server" or IPv4 (with {{testbedIndex}} at most)', () => {
    for (const address of ['vm.local', '198.19.{{testbedIndex}}', '10.0.0.{{controlPort}}', '300.1.1.1']) {
      expect(refusal({ ...FIRECRACKER, command: { ...FIRECRACKER.command, netserver: { address } } }), address).toBe(
        `variants: invalid variants file mine.json: variants[0].command.netserver.address: ${JSON.stringify(address)} is not "server" or an IPv4 address (which may carry {{testbedIndex}})`,
      );
    }
    expect(refusal({ ...FIRECRACKER, command: { ...FIRECRACKER.command, stopTimeoutSeconds: 0 } })).toMatch(
      /variants\[0\]\.command\.stopTimeoutSeconds: 0 is out of range: expected 1 to 600$/,
    );
    expect(refusal({ ...FIRECRACKER, command: { ...FIRECRACKER.command, accelerator: 'hvf' } })).toMatch(
      /variants\[0\]\.command\.accelerator: "hvf" is not one of none, kvm, tcg$/,
    );
  });

  it('may not be called command, the name of its base', () => {
    expect(refusal({ ...FIRECRACKER, name: 'command' })).toBe(
      'variants: invalid variants file mine.json: variants[0].name: "command" is the name of a base environment; a variant needs a name of its own',
    );
  });

  it('is unavailable, naming the field and the program, where a program is missing', async () => {
    const [v] = validateVariants({ variants: [FIRECRACKER] }, 'mine.json');
    expect(await findEnvironment('firecracker', [v!]).available({})).toEqual({
      ok: false,
      reason: 'firecracker: command.start: /usr/local/bin/firecracker does not exist or is not executable here',
    });
  });
});

describe('placeholders', () => {
  it('are filled in anywhere in an argument; unknown ones are found', () => {
    expect(substitute('/etc/virtnet/fc-{{testbedIndex}}.json', VALUES)).toBe('/etc/virtnet/fc-9.json');
    expect(substitute('{{serverAddress}}:{{controlPort}},{{dataPort}}', VALUES)).toBe('198.18.9.1:12865,12866');
    expect(substitute('{"a": 1}', VALUES)).toBe('{"a": 1}');
    expect(unknownPlaceholders('{{port}} {{name}} {{}}')).toEqual(['port', '']);
  });

  it('give the address netperf connects to: the server address, or a template of the testbed index', () => {
    const spec = { start: ['/bin/true'] };
    expect(netserverAddress(spec, VALUES)).toBe('198.18.9.1');
    expect(netserverAddress({ ...spec, netserver: { address: 'server' } }, VALUES)).toBe('198.18.9.1');
    expect(netserverAddress({ ...spec, netserver: { address: '198.19.{{testbedIndex}}.2' } }, VALUES)).toBe(
      '198.19.9.2',
    );
  });
});
