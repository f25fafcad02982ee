// The gvisor variants' pure decisions: which dockerd runtime a container runs under, the `docker
// run` flag, what dockerd must have registered (and why a registration is refused), runsc's flags
// and the platform its sandbox is seen to use.

import { describe, expect, it } from 'vitest';
import {
  containerName,
  dockerRunArgs,
  dockerRuntimeName,
  observedPlatform,
  parseRuntimes,
  runscFlag,
  runscRuntimeProblem,
} from './spec.ts';

const spec = {
  name: containerName(9),
  image: 'virtnet-netserver:offline-0123',
  serverAddress: '198.18.9.1',
  ports: { control: 12865, data: 12866 },
  testbedIndex: 9,
  owner: { pid: 4242, startTicks: '99' },
};

/** dockerd's runtimes as scripts/start-dockerd.sh registers them on a machine that needs the shim. */
const REGISTERED = parseRuntimes(
  JSON.stringify({
    runc: { path: 'runc' },
    runsc: { path: '/run/virtnet/runsc-shim', runtimeArgs: ['--platform=ptrace'] },
    'runsc-host': { path: '/usr/bin/runsc', runtimeArgs: ['--platform=ptrace', '--network=host'] },
  }),
);

describe('the runtime a container runs under', () => {
  it('runc is docker default: no --runtime flag, the docker command of the paper unchanged', () => {
    expect(dockerRuntimeName('runc', 'bridge')).toBeNull();
    expect(dockerRuntimeName('runc', 'host')).toBeNull();
    expect(dockerRunArgs({ ...spec, dockerRuntime: null })).not.toContain('--runtime');
    expect(dockerRunArgs({ ...spec, dockerRuntime: null })).toEqual(dockerRunArgs(spec));
  });

  it('runsc: runsc on the bridge (its own network stack), runsc-host on the host network', () => {
    expect(dockerRuntimeName('runsc', 'bridge')).toBe('runsc');
    expect(dockerRuntimeName('runsc', 'host')).toBe('runsc-host');
    const bridge = dockerRunArgs({ ...spec, dockerRuntime: 'runsc' });
    const i = bridge.indexOf('--runtime');
    expect(bridge.slice(i, i + 2)).toEqual(['--runtime', 'runsc']);
    // Still published on the testbed address only, before the image and its command.
    expect(bridge).toContain('198.18.9.1:12866:12866/udp');
    expect(i).toBeLessThan(bridge.indexOf(spec.image));
    const host = dockerRunArgs({ ...spec, network: 'host', dockerRuntime: 'runsc-host' });
    expect(host.slice(host.indexOf('--runtime'), host.indexOf('--runtime') + 2)).toEqual(['--runtime', 'runsc-host']);
    expect(host).not.toContain('--publish');
    expect(host.slice(-8)).toEqual(['netserver', '-D', '-f', '-4', '-L', '198.18.9.1', '-p', '12865']);
  });
});

describe("dockerd's runtimes", () => {
  it('are read from docker info, paths and arguments kept', () => {
    expect(REGISTERED.runsc).toEqual({ path: '/run/virtnet/runsc-shim', runtimeArgs: ['--platform=ptrace'] });
    expect(REGISTERED.runc).toEqual({ path: 'runc', runtimeArgs: [] });
  });

  it('refuses what is not the JSON object docker prints, quoting it', () => {
    expect(() => parseRuntimes('runc runsc')).toThrow(/docker info \.Runtimes is not JSON: "runc runsc"/);
    expect(() => parseRuntimes('["runsc"]')).toThrow(/is not an object: "\[\\"runsc\\"\]"/);
  });

  it('let both gvisor variants run when registered as start-dockerd.sh does', () => {
    expect(runscRuntimeProblem(REGISTERED, 'bridge')).toBeNull();
    expect(runscRuntimeProblem(REGISTERED, 'host')).toBeNull();
  });

  it('name the missing runtime, what dockerd has instead, and how to register it', () => {
    const onlyRunc = parseRuntimes('{"runc":{"path":"runc"},"io.containerd.runc.v2":{"path":"runc"}}');
    expect(runscRuntimeProblem(onlyRunc, 'bridge')).toBe(
      'dockerd has no runtime named runsc (it has io.containerd.runc.v2, runc): install runsc (apt-get install runsc) and run scripts/start-dockerd.sh, which registers runsc and runsc-host with the dockerd it starts',
    );
    expect(runscRuntimeProblem(onlyRunc, 'host')).toMatch(/^dockerd has no runtime named runsc-host /);
  });

  it("refuse runsc-host without --network=host: its own stack in the host's namespace takes the host's addresses", () => {
    const wrong = parseRuntimes(
      '{"runsc":{"path":"/usr/bin/runsc"},"runsc-host":{"path":"/usr/bin/runsc","runtimeArgs":["--platform=ptrace"]}}',
    );
    expect(runscRuntimeProblem(wrong, 'host')).toMatch(
      /^dockerd's runtime runsc-host runs runsc with --network=sandbox, and the host network needs --network=host \(with its own network stack in the host's namespace runsc would take the host interfaces' addresses\): /,
    );
    expect(runscRuntimeProblem(wrong, 'bridge')).toBeNull();
  });

  it('refuse a runsc for the bridge that bypasses netstack: that would not be gVisor network stack', () => {
    const passthrough = parseRuntimes('{"runsc":{"path":"/usr/bin/runsc","runtimeArgs":["--network","host"]}}');
    expect(runscRuntimeProblem(passthrough, 'bridge')).toMatch(
      /^dockerd's runtime runsc runs runsc with --network=host, and the bridge network needs --network=sandbox \(gVisor's own network stack\)/,
    );
  });
});

describe("runsc's flags", () => {
  it('are read in every form runsc takes, and absent ones are null', () => {
    expect(runscFlag(['--platform=ptrace'], 'platform')).toBe('ptrace');
    expect(runscFlag(['--debug', '--platform', 'kvm'], 'platform')).toBe('kvm');
    expect(runscFlag(['-platform=kvm'], 'platform')).toBe('kvm');
    expect(runscFlag(['--platform=ptrace', '--network=host'], 'network')).toBe('host');
    expect(runscFlag(['--platform=ptrace'], 'network')).toBeNull();
    expect(runscFlag(['--platformx=kvm'], 'platform')).toBeNull();
  });
});

describe("the platform gVisor's sandbox is seen to use", () => {
  it('is ptrace when its children are traced by its own threads', () => {
    expect(observedPlatform({ threads: [100, 101, 102], childTracers: [101], fdTargets: [] })).toBe('ptrace');
  });

  it('is kvm when it holds /dev/kvm open (and no stub is traced)', () => {
    expect(
      observedPlatform({ threads: [100], childTracers: [0], fdTargets: ['/dev/null', '/dev/kvm', 'socket:[1]'] }),
    ).toBe('kvm');
  });

  it('is unknown when a child is traced by someone else, or nothing shows', () => {
    expect(observedPlatform({ threads: [100], childTracers: [555], fdTargets: [] })).toBeNull();
    expect(observedPlatform({ threads: [100], childTracers: [], fdTargets: ['/dev/null'] })).toBeNull();
  });
});
