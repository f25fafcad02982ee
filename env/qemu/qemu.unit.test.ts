// The pure parts of the shared QEMU layer: accelerator choice, QEMU command lines, the guest
// network's rules and names, and the DHCP server's configuration.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { chooseAccelerator, hardwareVirtualizationFlags, hostTscKhz, parseAcceleratorRequest } from './accelerator.ts';
import { prefixToNetmask, udhcpdConfig } from './dhcp.ts';
import { decideVhost, lineMatching, networkModeSetting, testbedIndexSetting, vhostUnavailableReason } from './guest.ts';
import {
  guestNetworkPlan,
  iptablesDeleteArgv,
  iptablesInsertArgv,
  netperfPortMaps,
  ourGuestLinks,
  ourRulesInSave,
} from './network.ts';
import { buildQemuCommand, type QemuCommandSpec } from './qemu-command.ts';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

// Flags lines as /proc/cpuinfo prints them (shortened): this machine's (PVM: no vmx), an Intel
// host with VT-x, an AMD host with AMD-V.
const PVM_CPUINFO =
  'processor\t: 0\nflags\t\t: fpu vme de pse tsc msr pae x2apic hypervisor avx512f\nbugs\t\t: spectre_v1\n\nprocessor\t: 1\nflags\t\t: fpu vme de pse tsc x2apic hypervisor\n';
const INTEL_CPUINFO =
  'processor\t: 0\nflags\t\t: fpu vme de vmx smx est tm2 ssse3\nvmx flags\t: vnmi preemption_timer invvpid ept_x_only\n';
const AMD_CPUINFO = 'processor\t: 0\nflags\t\t: fpu vme de pse svm extapic cr8_legacy\n';

describe('accelerator choice', () => {
  it('reads vmx/svm only from the flags lines (not from "vmx flags")', () => {
    expect(hardwareVirtualizationFlags(PVM_CPUINFO)).toEqual([]);
    expect(hardwareVirtualizationFlags(INTEL_CPUINFO)).toEqual(['vmx']);
    expect(hardwareVirtualizationFlags(AMD_CPUINFO)).toEqual(['svm']);
    expect(hardwareVirtualizationFlags('vmx flags\t: vnmi\n')).toEqual([]);
  });

  it('auto picks TCG where /dev/kvm exists without vmx/svm (PVM), KVM where both exist', () => {
    const pvm = chooseAccelerator('auto', { cpuinfo: PVM_CPUINFO, kvmDevice: true });
    expect(pvm.accelerator).toBe('tcg');
    expect(pvm.reason).toBe('auto: no vmx/svm CPU flag, /dev/kvm present, so TCG software emulation');
    expect(chooseAccelerator('auto', { cpuinfo: INTEL_CPUINFO, kvmDevice: true }).accelerator).toBe('kvm');
    expect(chooseAccelerator('auto', { cpuinfo: AMD_CPUINFO, kvmDevice: true }).accelerator).toBe('kvm');
    expect(chooseAccelerator('auto', { cpuinfo: INTEL_CPUINFO, kvmDevice: false }).accelerator).toBe('tcg');
  });

  it('honours an explicit request, refusing kvm without /dev/kvm', () => {
    expect(chooseAccelerator('tcg', { cpuinfo: INTEL_CPUINFO, kvmDevice: true }).accelerator).toBe('tcg');
    expect(chooseAccelerator('kvm', { cpuinfo: PVM_CPUINFO, kvmDevice: true }).accelerator).toBe('kvm');
    expect(() => chooseAccelerator('kvm', { cpuinfo: INTEL_CPUINFO, kvmDevice: false })).toThrow(
      /kvm requested but this machine has no \/dev\/kvm/,
    );
  });

  it('parses the setting', () => {
    expect(parseAcceleratorRequest(undefined)).toBe('auto');
    expect(parseAcceleratorRequest('tcg')).toBe('tcg');
    expect(() => parseAcceleratorRequest('hvf')).toThrow('accelerator: expected auto, kvm or tcg, got "hvf"');
  });
});

describe('QEMU command', () => {
  const base: QemuCommandSpec = {
    boot: {
      kind: 'kernel',
      kernel: '/c/vmlinuz',
      initrd: '/c/initrd.gz',
      append: 'console=ttyS0 virtnet.ip=198.19.9.2/24',
    },
    accelerator: 'tcg',
    memoryMb: 256,
    cpus: 1,
    net: { kind: 'tap', tap: 'vnet9tap', mac: '52:54:00:19:09:02', vhost: false },
    consoleLog: '/r/logs/kvm-console.log',
  };

  it('boots a kernel under TCG on our tap, console to a file', () => {
    expect(buildQemuCommand(base)).toEqual([
      'qemu-system-x86_64',
      '-nodefaults',
      '-no-user-config',
      '-display',
      'none',
      '-monitor',
      'none',
      '-machine',
      'q35',
      '-accel',
      'tcg',
      '-m',
      '256',
      '-smp',
      '1',
      '-serial',
      'file:/r/logs/kvm-console.log',
      '-no-reboot',
      '-kernel',
      '/c/vmlinuz',
      '-initrd',
      '/c/initrd.gz',
      '-append',
      'console=ttyS0 virtnet.ip=198.19.9.2/24',
      '-netdev',
      'tap,id=net0,ifname=vnet9tap,script=no,downscript=no',
      '-device',
      'virtio-net-pci,netdev=net0,mac=52:54:00:19:09:02',
    ]);
  });

  it('boots an OSv disk image under KVM with vhost-net and virtio-rng, never writing the image', () => {
    const argv = buildQemuCommand({
      ...base,
      accelerator: 'kvm',
      boot: { kind: 'disk', image: '/i/usr.img', format: 'qcow2' },
      net: { kind: 'tap', tap: 'vnet9tap', mac: '52:54:00:19:09:02', vhost: true },
      rng: true,
      memoryMb: 512,
    });
    const joined = argv.join(' ');
    expect(joined).toContain('-accel kvm -cpu host -m 512');
    expect(joined).toContain(
      '-drive file=/i/usr.img,if=none,id=hd0,format=qcow2,snapshot=on,cache=unsafe -device virtio-blk-pci,drive=hd0,bootindex=0',
    );
    expect(joined).toContain('-netdev tap,id=net0,ifname=vnet9tap,script=no,downscript=no,vhost=on');
    expect(argv.at(-1)).toBe('virtio-rng-pci');
    expect(joined).not.toContain('-kernel');
  });

  it('gives the guest an emulated e1000 NIC instead of virtio-net when asked, and refuses vhost-net for it', () => {
    const argv = buildQemuCommand({ ...base, nic: 'e1000' });
    expect(argv.join(' ')).toContain('-device e1000,netdev=net0,mac=52:54:00:19:09:02');
    expect(argv.join(' ')).not.toContain('virtio-net-pci');
    expect(() =>
      buildQemuCommand({
        ...base,
        nic: 'e1000',
        net: { kind: 'tap', tap: 'vnet9tap', mac: '52:54:00:19:09:02', vhost: true },
      }),
    ).toThrow('vhost-net serves virtio-net only, not the e1000 NIC');
    expect(buildQemuCommand(base).join(' ')).toContain('-device virtio-net-pci,netdev=net0,mac=52:54:00:19:09:02');
  });

  it('boots a kernel on the microvm machine with virtio-net over MMIO, and refuses what needs PCI there', () => {
    const argv = buildQemuCommand({ ...base, machine: 'microvm', rng: true });
    const joined = argv.join(' ');
    expect(argv.slice(argv.indexOf('-machine'), argv.indexOf('-machine') + 2)).toEqual([
      '-machine',
      'microvm,acpi=on,pcie=off',
    ]);
    expect(argv.slice(-4)).toEqual([
      '-device',
      'virtio-net-device,netdev=net0,mac=52:54:00:19:09:02',
      '-device',
      'virtio-rng-device',
    ]);
    expect(joined).not.toContain('-pci');
    expect(joined).toContain('-kernel /c/vmlinuz -initrd /c/initrd.gz');
    expect(() => buildQemuCommand({ ...base, machine: 'microvm', nic: 'e1000' })).toThrow(
      'QEMU command: the microvm machine has no PCI bus for the e1000 NIC; only virtio (over MMIO)',
    );
    expect(() =>
      buildQemuCommand({ ...base, machine: 'microvm', boot: { kind: 'disk', image: '/i/usr.img', format: 'qcow2' } }),
    ).toThrow('a disk image boots through firmware; the microvm machine boots a kernel');
  });

  it('decides vhost-net from the request and the host: on needs /dev/vhost-net, auto takes it where it is', () => {
    expect(decideVhost('auto', 'virtio', true)).toBe(true);
    expect(decideVhost('auto', 'virtio', false)).toBe(false);
    expect(decideVhost('auto', 'e1000', true)).toBe(false);
    expect(decideVhost('off', 'virtio', true)).toBe(false);
    expect(decideVhost('on', 'virtio', true)).toBe(true);
    expect(() => decideVhost('on', 'virtio', false)).toThrow(
      /^vhost-net was asked for \(vhost on\), but \/dev\/vhost-net is missing: this host's kernel has no vhost_net/,
    );
    expect(() => decideVhost('on', 'e1000', true)).toThrow('vhost-net serves virtio-net only, not the e1000 NIC');
    expect(vhostUnavailableReason(true)).toBeNull();
  });

  it('builds user-mode networking with host forwards to the same guest ports', () => {
    const argv = buildQemuCommand({
      ...base,
      net: {
        kind: 'user',
        mac: '52:54:00:19:09:02',
        network: '198.19.9.0/24',
        hostAddress: '198.19.9.1',
        guestAddress: '198.19.9.2',
        forwards: [
          { protocol: 'tcp', hostAddress: '198.18.9.1', port: 12865 },
          { protocol: 'udp', hostAddress: '198.18.9.1', port: 12866 },
        ],
      },
    });
    expect(argv).toContain(
      'user,id=net0,net=198.19.9.0/24,host=198.19.9.1,dhcpstart=198.19.9.2,hostfwd=tcp:198.18.9.1:12865-198.19.9.2:12865,hostfwd=udp:198.18.9.1:12866-198.19.9.2:12866',
    );
  });

  it('refuses paths QEMU would misread, and silly sizes', () => {
    expect(() => buildQemuCommand({ ...base, boot: { kind: 'disk', image: '/i/a,b.img', format: 'raw' } })).toThrow(
      'disk image path "/i/a,b.img" contains a comma',
    );
    expect(() => buildQemuCommand({ ...base, memoryMb: 16 })).toThrow('memory 16 MiB is too small');
    expect(() => buildQemuCommand({ ...base, cpus: 0 })).toThrow('0 vCPUs is out of range');
  });
});

describe('guest network plan', () => {
  it('derives names, addresses and a libvirt-style MAC from the testbed index', () => {
    const p = guestNetworkPlan(25, { control: 12865, data: 12866 });
    expect(p).toMatchObject({
      bridge: 'vnet25br',
      tap: 'vnet25tap',
      bridgeAddress: '198.19.25.1',
      guestAddress: '198.19.25.2',
      serverAddress: '198.18.25.1',
      mac: '52:54:00:19:19:02',
      comment: 'virtnet-guest-25',
    });
    expect(p.portMaps).toEqual([
      { protocol: 'tcp', port: 12865 },
      { protocol: 'tcp', port: 12866 },
      { protocol: 'udp', port: 12866 },
    ]);
  });

  it('tags every rule with our comment, maps each port to the same guest port, and accepts forwarding for our bridge only', () => {
    const p = guestNetworkPlan(25, { control: 12865, data: 12866 });
    expect(p.rules.map((r) => iptablesInsertArgv(r).join(' '))).toEqual([
      'iptables -w 5 -t nat -I PREROUTING 1 -d 198.18.25.1/32 -p tcp -m tcp --dport 12865 -m comment --comment virtnet-guest-25 -j DNAT --to-destination 198.19.25.2:12865',
      'iptables -w 5 -t nat -I PREROUTING 1 -d 198.18.25.1/32 -p tcp -m tcp --dport 12866 -m comment --comment virtnet-guest-25 -j DNAT --to-destination 198.19.25.2:12866',
      'iptables -w 5 -t nat -I PREROUTING 1 -d 198.18.25.1/32 -p udp -m udp --dport 12866 -m comment --comment virtnet-guest-25 -j DNAT --to-destination 198.19.25.2:12866',
      'iptables -w 5 -t filter -I FORWARD 1 -o vnet25br -m comment --comment virtnet-guest-25 -j ACCEPT',
      'iptables -w 5 -t filter -I FORWARD 1 -i vnet25br -m comment --comment virtnet-guest-25 -j ACCEPT',
    ]);
  });

  it('refuses bad ports and indexes', () => {
    expect(() => netperfPortMaps({ control: 12865, data: 12865 })).toThrow('control and data port are both 12865');
    expect(() => netperfPortMaps({ control: 0, data: 12866 })).toThrow('control port 0 is not a port number');
    expect(() => guestNetworkPlan(64, { control: 12865, data: 12866 })).toThrow(/testbed index 64 is out of range/);
  });

  it('finds exactly our rules in iptables-save output, as rules that delete what was saved', () => {
    const saved = fixture('iptables-save-nat.txt');
    const all = ourRulesInSave(saved);
    expect(all.map((r) => `${r.table} ${r.chain} ${r.spec.at(-1)}`)).toEqual([
      'nat PREROUTING 198.19.25.2:12866',
      'nat PREROUTING 198.19.25.2:12865',
      'nat PREROUTING 198.19.31.2:12865',
      'filter FORWARD ACCEPT',
      'filter FORWARD ACCEPT',
    ]);
    const of25 = ourRulesInSave(saved, 25);
    expect(of25).toHaveLength(4);
    expect(iptablesDeleteArgv(of25[0]!).join(' ')).toBe(
      'iptables -w 5 -t nat -D PREROUTING -d 198.18.25.1/32 -p udp -m udp --dport 12866 -m comment --comment virtnet-guest-25 -j DNAT --to-destination 198.19.25.2:12866',
    );
    expect(ourRulesInSave(saved, 2)).toEqual([]);
  });

  it('finds our bridges and taps in ip link output, and nothing else', () => {
    const out = [
      '1: lo: <LOOPBACK,UP>',
      '7: vnet25br: <BROADCAST,MULTICAST,UP>',
      '8: vnet25tap: <BROADCAST> master vnet25br',
      '9: vnet25s@if2: <UP>',
      '10: docker0: <UP>',
      '11: vnet3tap: <UP>',
      '12: vnetfoo: <UP>',
    ].join('\n');
    expect(ourGuestLinks(out)).toEqual([
      { name: 'vnet25br', index: 25 },
      { name: 'vnet25tap', index: 25 },
      { name: 'vnet3tap', index: 3 },
    ]);
  });
});

describe('console reading', () => {
  it('quotes the failing console line without its timestamp', () => {
    const console =
      '[    0.1] Linux version 6.1.0\n[    6.903917] Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)\n[    6.90] CPU: 0 PID: 1\n';
    expect(lineMatching(console, /Kernel panic/)).toBe(
      'Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)',
    );
    expect(
      lineMatching('OSv v0.57.0\nFailed to load object: /tools/netserver.so. Powering off.\n', /Failed to load object/),
    ).toBe('Failed to load object: /tools/netserver.so. Powering off.');
  });
});

describe('settings', () => {
  it('needs the testbed index, and checks it and the network mode', () => {
    expect(testbedIndexSetting({ testbedIndex: '25' })).toBe(25);
    expect(() => testbedIndexSetting({})).toThrow('settings.testbedIndex is missing');
    expect(() => testbedIndexSetting({ testbedIndex: '2.5' })).toThrow(
      'testbed index "2.5" is not a whole number from 0 to 63',
    );
    expect(networkModeSetting({})).toBe('tap');
    expect(networkModeSetting({ guestNetwork: 'user' })).toBe('user');
    expect(() => networkModeSetting({ guestNetwork: 'slirp' })).toThrow(
      'guest network: expected tap or user, got "slirp"',
    );
  });
});

describe('DHCP server configuration', () => {
  it('hands the guest MAC the guest address, with our bridge as router, and nothing else', () => {
    const conf = udhcpdConfig(guestNetworkPlan(25, { control: 12865, data: 12866 }), '/s/vnet25br.leases');
    expect(conf.split('\n')).toEqual([
      'interface vnet25br',
      'start 198.19.25.2',
      'end 198.19.25.2',
      'max_leases 1',
      'lease_file /s/vnet25br.leases',
      'auto_time 0',
      'option subnet 255.255.255.0',
      'option router 198.19.25.1',
      'option lease 86400',
      'static_lease 52:54:00:19:19:02 198.19.25.2',
      '',
    ]);
  });

  it('turns prefix lengths into netmasks', () => {
    expect([0, 8, 24, 30, 32].map(prefixToNetmask)).toEqual([
      '0.0.0.0',
      '255.0.0.0',
      '255.255.255.0',
      '255.255.255.252',
      '255.255.255.255',
    ]);
    expect(() => prefixToNetmask(33)).toThrow('prefix length 33 is out of range');
  });
});

describe("the host's TSC frequency, for a TCG guest that cannot calibrate its own", () => {
  const vm =
    'model name\t: Intel(R) Xeon(R) Processor\ncpu MHz\t\t: 2600.000\nflags\t\t: fpu tsc constant_tsc nonstop_tsc tsc_known_freq\n';
  it("is the kernel's cpu MHz where no cpufreq driver moves the core clock and the TSC is constant", () => {
    expect(hostTscKhz(vm, false)).toBe(2_600_000);
    expect(hostTscKhz(vm.replace('2600.000', '2095.076'), false)).toBe(2_095_076);
  });
  it('is unknown with cpufreq (cpu MHz is then the current clock), without a constant TSC, or without the line', () => {
    expect(hostTscKhz(vm, true)).toBeNull();
    expect(hostTscKhz(vm.replace(' constant_tsc', ''), false)).toBeNull();
    expect(hostTscKhz(vm.replace(/cpu MHz.*\n/, ''), false)).toBeNull();
    expect(hostTscKhz(vm.replace('2600.000', '0.000'), false)).toBeNull();
  });
});
