// The podman-rootless environment's pure decisions: versions, what each network needs, the command
// lines, and which processes are the container's.

import { describe, expect, it } from 'vitest';
import {
  accountingCgroup,
  asUser,
  atLeast,
  containerName,
  containerProcesses,
  cpuScopeOf,
  importChanges,
  networkArgument,
  networkSupport,
  ociRuntime,
  parsePodmanVersion,
  parsePs,
  parseSlirp4netnsVersion,
  PODMAN_NETWORKS,
  podmanRunArgs,
  portForwarder,
  rootlessportFor,
  usesSlirp4netns,
  slirp4netnsFor,
} from './spec.ts';
import { BASE_OPTIONS } from '../variants.ts';

describe('versions', () => {
  it('reads podman --version and slirp4netns --version as printed', () => {
    expect(parsePodmanVersion('podman version 4.3.1\n')).toEqual([4, 3, 1]);
    expect(parsePodmanVersion('podman version 5.0')).toEqual([5, 0, 0]);
    expect(parsePodmanVersion('podman: command not found')).toBeNull();
    expect(parseSlirp4netnsVersion('slirp4netns version 1.2.0\ncommit: 656041d\nlibslirp: 4.7.0\n')).toBe('1.2.0');
    expect(parseSlirp4netnsVersion('')).toBe('unknown');
  });

  it('compares versions part by part', () => {
    expect(atLeast([4, 4, 0], [4, 4, 0])).toBe(true);
    expect(atLeast([4, 10, 0], [4, 4, 0])).toBe(true);
    expect(atLeast([5, 0, 0], [4, 4, 0])).toBe(true);
    expect(atLeast([4, 3, 9], [4, 4, 0])).toBe(false);
    expect(atLeast([3, 9, 9], [4, 4, 0])).toBe(false);
  });
});

describe('what each network needs of Podman', () => {
  it('refuses pasta before Podman 4.4, saying which version has it', () => {
    expect(networkSupport('pasta', [4, 3, 1])).toEqual({
      ok: false,
      reason: "Podman 4.3.1 has no --network pasta (Podman's pasta support came with 4.4.0)",
    });
    expect(networkSupport('pasta', [4, 4, 0])).toEqual({ ok: true });
    expect(networkSupport('slirp4netns', [4, 3, 1])).toEqual({ ok: true });
  });

  it('has slirp4netns forward the ports itself, or rootlessport, or pasta; and names the forwarder', () => {
    expect(networkArgument('slirp4netns')).toBe('slirp4netns:port_handler=slirp4netns');
    expect(networkArgument('slirp4netns-rootlesskit')).toBe('slirp4netns:port_handler=rootlesskit');
    expect(networkArgument('pasta')).toBe('pasta');
    expect(PODMAN_NETWORKS.map(portForwarder)).toEqual(['slirp4netns', 'rootlessport', 'pasta']);
    expect(PODMAN_NETWORKS.map(usesSlirp4netns)).toEqual([true, true, false]);
    // The variants' option takes exactly the networks the driver knows.
    expect(BASE_OPTIONS.podman.network.values).toEqual(PODMAN_NETWORKS);
  });

  it('runs runc where the cgroup layout is hybrid (crun refuses it), crun elsewhere', () => {
    expect(ociRuntime(true)).toBe('runc');
    expect(ociRuntime(false)).toBe('crun');
  });
});

describe('command lines', () => {
  const spec = {
    name: containerName(3),
    image: 'virtnet-netserver:offline-0123456789abcdef',
    serverAddress: '198.18.0.13',
    ports: { control: 12865, data: 12866 },
    testbedIndex: 3,
    owner: { pid: 42, startTicks: '777' },
    network: 'slirp4netns' as const,
    runtime: 'runc' as const,
  };

  it('podman run: labelled, the ports published on the testbed address, netserver in the foreground', () => {
    expect(podmanRunArgs(spec)).toEqual([
      'run',
      '--detach',
      '--name',
      'vnet3-podman',
      '--label',
      'virtnet=1',
      '--label',
      'virtnet.testbed=3',
      '--label',
      'virtnet.owner=42:777',
      '--runtime',
      'runc',
      '--network',
      'slirp4netns:port_handler=slirp4netns',
      '--publish',
      '198.18.0.13:12865:12865/tcp',
      '--publish',
      '198.18.0.13:12866:12866/tcp',
      '--publish',
      '198.18.0.13:12866:12866/udp',
      'virtnet-netserver:offline-0123456789abcdef',
      'netserver',
      '-D',
      '-f',
      '-4',
      '-p',
      '12865',
    ]);
    const pasta = podmanRunArgs({ ...spec, network: 'pasta', runtime: 'crun' });
    expect(pasta.slice(pasta.indexOf('--runtime'), pasta.indexOf('--runtime') + 4)).toEqual([
      '--runtime',
      'crun',
      '--network',
      'pasta',
    ]);
  });

  it('runs podman as the user through runuser, and imports the image labelled as the project’s', () => {
    expect(asUser('virtnet-podman', ['ps', '--all'])).toEqual([
      'runuser',
      '-u',
      'virtnet-podman',
      '--',
      'podman',
      'ps',
      '--all',
    ]);
    expect(importChanges('/usr/bin/netserver')).toEqual([
      '--change',
      'ENV PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin',
      '--change',
      'LABEL virtnet=1',
      '--change',
      'CMD ["/usr/bin/netserver", "-D", "-f", "-4", "-p", "12865"]',
    ]);
  });
});

describe("the container's processes", () => {
  const netns = '/tmp/podman-run-1002/netns/netns-3c812b10-b30b';
  const ps = parsePs(
    [
      '  10647 virtnet-podman S    podman',
      `  12842 virtnet-podman S    /usr/bin/slirp4netns --disable-host-loopback --mtu=65520 -c -e 3 -r 4 --netns-type=path ${netns} tap0`,
      '  12845 virtnet-podman Ss   /usr/bin/conmon --api-version 1 -c be3c09bd -n vnet3-podman',
      '  12855 virtnet-podman Ss   netserver -D -f -4 -p 12865',
      `  12900 virtnet-podman Z    [slirp4netns] <defunct>`,
      `  13000 someone        S    /usr/bin/slirp4netns --netns-type=path ${netns}-other tap0`,
      '  13001 root           S    /usr/bin/slirp4netns --netns-type=path /elsewhere tap0',
      'garbage line',
    ].join('\n'),
  );

  it('parses ps lines and skips what does not fit', () => {
    expect(ps).toHaveLength(7);
    expect(ps[0]).toEqual({ pid: 10647, user: 'virtnet-podman', state: 'S', args: 'podman' });
  });

  it("finds the slirp4netns of a container by its network namespace's path, and only that one", () => {
    expect(slirp4netnsFor(ps, netns).map((p) => p.pid)).toEqual([12842]);
    expect(slirp4netnsFor(ps, '/no/such/netns')).toEqual([]);
    expect(slirp4netnsFor(ps, '')).toEqual([]);
  });

  it("the user's live container processes, without Podman's pause process or the ended ones", () => {
    expect(containerProcesses(ps, 'virtnet-podman').map((p) => p.pid)).toEqual([12842, 12845, 12855]);
    expect(containerProcesses(parsePs('  1 virtnet-podman S podman pause'), 'virtnet-podman')).toEqual([]);
  });
});

describe('CPU scope', () => {
  it("finds rootlessport for a container by its child's network namespace: the child and its parent", () => {
    const children = [
      { pid: 20, ppid: 19, netns: 'net:[4026532001]' },
      { pid: 30, ppid: 29, netns: 'net:[4026532002]' },
    ];
    expect(rootlessportFor(children, 'net:[4026532002]')).toEqual([29, 30]);
    expect(rootlessportFor(children, 'net:[4026532999]')).toEqual([]);
    expect(rootlessportFor(children, '')).toEqual([]);
  });

  const v1Root = '9:name=systemd:/\n4:memory:/process_api/5e85\n2:cpuacct:/\n1:cpu:/\n0::/\n';

  it("reads the cgroup a process's CPU time is accounted in: v1 cpuacct first, else v2", () => {
    expect(accountingCgroup(v1Root)).toBe('/');
    expect(accountingCgroup('3:cpu,cpuacct:/user.slice/x\n0::/\n')).toBe('/user.slice/x');
    expect(accountingCgroup('0::/user.slice/user-1002.slice/libpod-abc.scope/container\n')).toBe(
      '/user.slice/user-1002.slice/libpod-abc.scope/container',
    );
    expect(accountingCgroup('')).toBeNull();
  });

  it('without a cgroup of its own (rootless on cgroup v1): netserver, conmon and slirp4netns by PID', () => {
    expect(
      cpuScopeOf({ netserver: 12855, conmon: 12845, network: [12842], netserverCgroup: '/', conmonCgroup: '/' }),
    ).toEqual({ cgroups: [], pids: [12855, 12845, 12842] });
    // Same cgroup as conmon, which is outside the container: not the container's own.
    expect(
      cpuScopeOf({ netserver: 5, conmon: 4, network: [3], netserverCgroup: '/u/x', conmonCgroup: '/u/x' }),
    ).toEqual({ cgroups: [], pids: [5, 4, 3] });
  });

  it('with its own cgroup: the cgroup, and netserver not counted again by PID; unknown PIDs left out', () => {
    expect(
      cpuScopeOf({
        netserver: 12855,
        conmon: 12845,
        network: [12842],
        netserverCgroup: '/user.slice/libpod-abc.scope/container',
        conmonCgroup: '/user.slice/libpod-conmon-abc.scope',
      }),
    ).toEqual({ cgroups: ['user.slice/libpod-abc.scope/container'], pids: [12845, 12842] });
    expect(cpuScopeOf({ netserver: null, conmon: 0, network: [], netserverCgroup: null, conmonCgroup: null })).toEqual({
      cgroups: [],
      pids: [],
    });
  });
});
