import { describe, expect, it } from 'vitest';
import {
  chooseImageBuild,
  containerName,
  dockerRunArgs,
  imageTag,
  isLeftBehind,
  offlineDockerfile,
  parseImageBuildSetting,
  parseLdd,
  parseOwnerLabel,
  parseTestbedIndex,
  proxiesFor,
  userlandProxyState,
} from './spec.ts';

const LDD_DEBIAN12 = `\tlinux-vdso.so.1 (0x00007fc23b8e8000)
\tlibm.so.6 => /lib/x86_64-linux-gnu/libm.so.6 (0x00007fc23b7af000)
\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007fc23b5cd000)
\t/lib64/ld-linux-x86-64.so.2 (0x00007fc23b8ea000)
`;

describe('docker run command', () => {
  const args = dockerRunArgs({
    name: containerName(17),
    image: 'virtnet-netserver:offline-0123',
    serverAddress: '198.18.17.1',
    ports: { control: 12865, data: 12866 },
    testbedIndex: 17,
    owner: { pid: 4242, startTicks: '99' },
  });

  it('names and labels the container after the project and the testbed', () => {
    expect(args.slice(0, 4)).toEqual(['run', '--detach', '--name', 'vnet17-docker']);
    expect(args).toContain('virtnet=1');
    expect(args).toContain('virtnet.testbed=17');
    expect(args).toContain('virtnet.owner=4242:99');
  });

  it('publishes TCP 12865, TCP 12866 and UDP 12866 on the testbed address only, on the default bridge', () => {
    const published = args.flatMap((a, i) => (args[i - 1] === '--publish' ? [a] : []));
    expect(published).toEqual([
      '198.18.17.1:12865:12865/tcp',
      '198.18.17.1:12866:12866/tcp',
      '198.18.17.1:12866:12866/udp',
    ]);
    expect(args[args.indexOf('--network') + 1]).toBe('bridge');
  });

  it('runs netserver in the foreground without forking, as the paper', () => {
    expect(args.slice(args.indexOf('virtnet-netserver:offline-0123'))).toEqual([
      'virtnet-netserver:offline-0123',
      'netserver',
      '-D',
      '-f',
      '-4',
      '-p',
      '12865',
    ]);
  });

  it('docker-host: the host network, nothing published, netserver bound to the testbed address', () => {
    const host = dockerRunArgs({
      name: containerName(17),
      image: 'virtnet-netserver:offline-0123',
      serverAddress: '198.18.17.1',
      ports: { control: 12865, data: 12866 },
      testbedIndex: 17,
      owner: { pid: 4242, startTicks: '99' },
      network: 'host',
    });
    expect(host[host.indexOf('--network') + 1]).toBe('host');
    expect(host).not.toContain('--publish');
    expect(host).toContain('virtnet.testbed=17');
    expect(host.slice(host.indexOf('virtnet-netserver:offline-0123'))).toEqual([
      'virtnet-netserver:offline-0123',
      'netserver',
      '-D',
      '-f',
      '-4',
      '-L',
      '198.18.17.1',
      '-p',
      '12865',
    ]);
  });
});

describe('settings', () => {
  it('reads the testbed index and refuses garbage', () => {
    expect(parseTestbedIndex('21')).toBe(21);
    expect(parseTestbedIndex(undefined)).toBe(0);
    expect(() => parseTestbedIndex('2x')).toThrow(/testbedIndex must be a whole number, got "2x"/);
  });

  it('reads the image build setting and names the expected values', () => {
    expect(parseImageBuildSetting(undefined)).toBe('auto');
    expect(parseImageBuildSetting('offline')).toBe('offline');
    expect(() => parseImageBuildSetting('pull')).toThrow(/expected auto, offline or registry .*got "pull"/);
  });

  it('builds offline unless a registry answered or one is asked for', () => {
    expect(chooseImageBuild('auto', false)).toBe('offline-scratch');
    expect(chooseImageBuild('auto', null)).toBe('offline-scratch');
    expect(chooseImageBuild('auto', true)).toBe('registry-dockerfile');
    expect(chooseImageBuild('offline', true)).toBe('offline-scratch');
    expect(chooseImageBuild('registry', false)).toBe('registry-dockerfile');
  });
});

describe('image', () => {
  it('lists the libraries ldd names, without the vDSO', () => {
    expect(parseLdd(LDD_DEBIAN12, '/usr/bin/netserver')).toEqual([
      '/lib/x86_64-linux-gnu/libm.so.6',
      '/lib/x86_64-linux-gnu/libc.so.6',
      '/lib64/ld-linux-x86-64.so.2',
    ]);
    expect(parseLdd('\tnot a dynamic executable\n', '/bin/x')).toEqual([]);
  });

  it('refuses a binary with a library ldd cannot find, naming it', () => {
    expect(() => parseLdd('\tlibfoo.so.1 => not found\n', '/usr/bin/netserver')).toThrow(
      '/usr/bin/netserver needs libfoo.so.1, which ldd cannot find on this host',
    );
  });

  it('tags by a hash of every input: same inputs, same tag; any change, another tag', () => {
    const files = [
      { path: '/usr/bin/netserver', sha256: 'aa' },
      { path: '/lib/libc.so.6', sha256: 'bb' },
    ];
    const df = offlineDockerfile('/usr/bin/netserver');
    const tag = imageTag('offline-scratch', df, files);
    expect(tag).toMatch(/^virtnet-netserver:offline-[0-9a-f]{16}$/);
    expect(imageTag('offline-scratch', df, [...files].reverse())).toBe(tag);
    expect(imageTag('offline-scratch', df, [files[0]!, { path: '/lib/libc.so.6', sha256: 'bc' }])).not.toBe(tag);
    expect(imageTag('offline-scratch', `${df}# changed\n`, files)).not.toBe(tag);
    expect(imageTag('registry-dockerfile', df, files)).toMatch(/^virtnet-netserver:registry-/);
  });

  it('builds the offline image from scratch with netserver as its command', () => {
    const df = offlineDockerfile('/usr/bin/netserver');
    expect(df).toMatch(/^FROM scratch$/m);
    expect(df).toMatch(/^CMD \["\/usr\/bin\/netserver", "-D", "-f", "-4", "-p", "12865"\]$/m);
  });
});

describe('userland proxy', () => {
  it('is off only when dockerd says so on its command line or in daemon.json', () => {
    expect(userlandProxyState(['dockerd', '--userland-proxy=false'], null).state).toBe('disabled');
    expect(userlandProxyState(['dockerd', '--userland-proxy', 'false'], null).state).toBe('disabled');
    expect(userlandProxyState(['dockerd', '--userland-proxy=true'], '{"userland-proxy": false}').state).toBe('enabled');
    expect(userlandProxyState(['dockerd'], '{"userland-proxy": false}')).toEqual({
      state: 'disabled',
      source: '"userland-proxy": false in /etc/docker/daemon.json',
    });
    expect(userlandProxyState(['dockerd', '--config-file', '/x.json'], '{"userland-proxy": false}').source).toContain(
      '/x.json',
    );
    expect(userlandProxyState(['dockerd'], null).state).toBe('enabled');
    expect(userlandProxyState(['dockerd'], '{"debug": true}').state).toBe('enabled');
    expect(userlandProxyState(['dockerd'], '{not json').state).toBe('unknown');
    expect(userlandProxyState(null, null).state).toBe('unknown');
  });

  it('finds docker-proxy processes that relay our address and no other', () => {
    const ps = [
      '/usr/sbin/dockerd --userland-proxy=false',
      '/usr/sbin/docker-proxy -proto udp -host-ip 198.18.17.1 -host-port 12866 -container-ip 172.17.0.2 -container-port 12866',
      '/usr/sbin/docker-proxy -proto tcp -host-ip 198.18.17.10 -host-port 12865 -container-ip 172.17.0.3 -container-port 12865',
    ];
    expect(proxiesFor(ps, '198.18.17.1')).toEqual([ps[1]]);
    expect(proxiesFor(ps, '198.18.17.2')).toEqual([]);
  });
});

describe('cleanup decisions', () => {
  const ticks = (table: Record<number, string>) => (pid: number) => table[pid] ?? null;

  it('removes containers of this process and of runs that are gone, keeps those of live runs', () => {
    expect(parseOwnerLabel('123:456')).toEqual({ pid: 123, startTicks: '456' });
    expect(parseOwnerLabel('garbage')).toBeNull();
    expect(isLeftBehind({ pid: 10, startTicks: '5' }, 10, ticks({}))).toBe(true); // ourselves
    expect(isLeftBehind({ pid: 11, startTicks: '5' }, 10, ticks({}))).toBe(true); // owner gone
    expect(isLeftBehind({ pid: 11, startTicks: '5' }, 10, ticks({ 11: '7' }))).toBe(true); // PID reused
    expect(isLeftBehind({ pid: 11, startTicks: '5' }, 10, ticks({ 11: '5' }))).toBe(false); // run still going
    expect(isLeftBehind(null, 10, ticks({}))).toBe(true);
  });
});
