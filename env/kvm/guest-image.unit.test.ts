// The pure parts of the Linux guest build: module order, ldd/apt parsing, /init, the cache key.

import { describe, expect, it } from 'vitest';
import {
  GUEST_NIC_MODULES,
  nicDeviceFromConsole,
  GUEST_READY_MARKER,
  guestImageKey,
  nicDriverFromConsole,
  type GuestImageInputs,
  initScript,
  kernelCommandLine,
  kernelPackageFromDepends,
  moduleLoadOrder,
  parseAptShow,
  parseLdd,
  parseModinfoDepends,
  VIRTIO_NET_MODULES,
} from './guest-image.ts';

// `modinfo -F depends` of each module of linux-image-6.1.0-56-amd64 (6.1.192-2).
const DEBIAN_6_1_DEPENDS: Record<string, string> = {
  virtio_net: 'virtio_ring,virtio,net_failover',
  virtio_pci: 'virtio_ring,virtio_pci_modern_dev,virtio_pci_legacy_dev,virtio',
  net_failover: 'failover',
  virtio: 'virtio_ring',
  failover: '',
  virtio_ring: '',
  virtio_pci_legacy_dev: '',
  virtio_pci_modern_dev: '',
};

describe('module load order', () => {
  it('puts every module after what it depends on (Debian 6.1 virtio modules)', () => {
    const depends = Object.fromEntries(
      Object.entries(DEBIAN_6_1_DEPENDS).map(([k, v]) => [k, parseModinfoDepends(`${v}\n`)]),
    );
    const order = moduleLoadOrder(depends);
    expect([...order].sort()).toEqual([...VIRTIO_NET_MODULES].sort());
    for (const [m, deps] of Object.entries(depends))
      for (const d of deps) expect(order.indexOf(d), `${d} before ${m}`).toBeLessThan(order.indexOf(m));
    // Given in the listed order, the result is the order the platform notes measured.
    const listed = Object.fromEntries(VIRTIO_NET_MODULES.map((m) => [m, depends[m]!]));
    expect(moduleLoadOrder(listed)).toEqual([...VIRTIO_NET_MODULES]);
  });

  it('names a cycle and a missing dependency', () => {
    expect(() => moduleLoadOrder({ a: ['b'], b: ['a'] })).toThrow('module dependency cycle: a -> b -> a');
    expect(() => moduleLoadOrder({ virtio_net: ['virtio'] })).toThrow(
      'module virtio (needed by virtio_net) is not among the modules taken from the kernel package',
    );
  });
});

describe('parsing host tools', () => {
  it('takes the libraries ldd lists with a path, not the vDSO', () => {
    const out =
      '\tlinux-vdso.so.1 (0x00007ffd)\n\tlibm.so.6 => /lib/x86_64-linux-gnu/libm.so.6 (0x00007f1)\n\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f2)\n\t/lib64/ld-linux-x86-64.so.2 (0x00007f3)\n';
    expect(parseLdd(out)).toEqual([
      '/lib/x86_64-linux-gnu/libm.so.6',
      '/lib/x86_64-linux-gnu/libc.so.6',
      '/lib64/ld-linux-x86-64.so.2',
    ]);
  });

  it('finds the kernel apt offers and its version and checksum', () => {
    expect(kernelPackageFromDepends('linux-image-amd64\n  Depends: linux-image-6.1.0-56-amd64\n')).toBe(
      'linux-image-6.1.0-56-amd64',
    );
    expect(() => kernelPackageFromDepends('linux-image-amd64\n')).toThrow('could not find the kernel package');
    const show =
      'Package: linux-image-6.1.0-56-amd64\nVersion: 6.1.192-2\nSize: 70550672\nSHA256: a86e2049672f52354c4536a089203b6c82639420424d31c91cf31a181fd4d8f1\n';
    expect(parseAptShow(show)).toEqual({
      version: '6.1.192-2',
      sha256: 'a86e2049672f52354c4536a089203b6c82639420424d31c91cf31a181fd4d8f1',
    });
    expect(() => parseAptShow('Package: x\n')).toThrow('apt-cache show printed no Version/SHA256');
  });
});

describe('guest boot', () => {
  it('loads the modules in order, configures eth0 from the command line, prints the marker, execs netserver', () => {
    const init = initScript(['virtio_ring', 'virtio', 'virtio_net']);
    expect(init.startsWith('#!/bin/busybox sh\n')).toBe(true);
    expect(init).toContain('for m in virtio_ring virtio virtio_net; do');
    expect(init).toContain('insmod /lib/modules/$m.ko');
    const marker = init.indexOf(`echo "${GUEST_READY_MARKER}`);
    const exec = init.indexOf('exec /usr/bin/netserver -D -f -4 -p "$PORT"');
    expect(marker).toBeGreaterThan(init.indexOf('ip addr add "$IP" dev eth0'));
    expect(exec).toBeGreaterThan(marker);
  });

  it("names the driver that runs eth0 on the ready line; the guest carries virtio-net's modules, virtio_mmio and e1000", () => {
    expect(initScript(['e1000'])).toContain('nic driver $(basename "$(readlink /sys/class/net/eth0/device/driver)")');
    expect(
      nicDriverFromConsole(
        `[    3.1] x\n${GUEST_READY_MARKER} 192.168.54.2/24 netserver port 12865 nic driver e1000\n`,
      ),
    ).toBe('e1000');
    expect(nicDriverFromConsole(`${GUEST_READY_MARKER} 192.168.54.2/24 netserver port 12865\n`)).toBeNull();
    const mmio = `${GUEST_READY_MARKER} 198.19.9.2/24 netserver port 12865 nic driver virtio_net at /sys/devices/platform/LNRO0005:00/virtio0\n`;
    expect(nicDriverFromConsole(mmio)).toBe('virtio_net');
    expect(nicDeviceFromConsole(mmio)).toBe('/sys/devices/platform/LNRO0005:00/virtio0');
    expect(nicDeviceFromConsole(`${GUEST_READY_MARKER} 1.2.3.4/24 netserver port 1 nic driver e1000\n`)).toBeNull();
    expect(initScript(['virtio_mmio'])).toContain('at $(readlink -f /sys/class/net/eth0/device)"');
    expect(GUEST_NIC_MODULES).toEqual([...VIRTIO_NET_MODULES, 'virtio_mmio', 'e1000']);
  });

  it('passes address, gateway and port on the kernel command line', () => {
    expect(kernelCommandLine({ address: '198.19.9.2/24', gateway: '198.19.9.1', port: 12865, quiet: true })).toBe(
      'console=ttyS0 panic=-1 oops=panic quiet virtnet.ip=198.19.9.2/24 virtnet.port=12865 virtnet.gw=198.19.9.1',
    );
    expect(kernelCommandLine({ address: 'dhcp', gateway: null, port: 12865, quiet: false })).toBe(
      'console=ttyS0 panic=-1 oops=panic virtnet.ip=dhcp virtnet.port=12865',
    );
  });

  it('keys the cache on every input', () => {
    const inputs: GuestImageInputs = {
      builderVersion: 1,
      kernelPackage: 'linux-image-6.1.0-56-amd64',
      kernelPackageVersion: '6.1.192-2',
      kernelPackageSha256: 'a'.repeat(64),
      modules: VIRTIO_NET_MODULES,
      hostFiles: { '/usr/bin/netserver': 'b'.repeat(64) },
      initScript: 'x',
      udhcpcScript: 'y',
    };
    const key = guestImageKey(inputs);
    expect(key).toMatch(/^[0-9a-f]{16}$/);
    expect(guestImageKey({ ...inputs })).toBe(key);
    expect(guestImageKey({ ...inputs, kernelPackageVersion: '6.1.192-3' })).not.toBe(key);
    expect(guestImageKey({ ...inputs, hostFiles: { '/usr/bin/netserver': 'c'.repeat(64) } })).not.toBe(key);
    expect(guestImageKey({ ...inputs, initScript: 'z' })).not.toBe(key);
  });
});
