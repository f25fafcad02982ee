// The QEMU command line for a guest, as pure data: what to boot (a kernel + initramfs, or a disk
// image such as OSv's), how it is accelerated, how it is networked, where its serial console goes.

import type { Accelerator } from './accelerator.ts';

export type BootSpec =
  | { kind: 'kernel'; kernel: string; initrd: string; append: string }
  /** A bootable disk image (OSv's usr.img), attached as virtio-blk and never written to (snapshot=on). */
  | { kind: 'disk'; image: string; format: 'qcow2' | 'raw' };

export type NetSpec =
  /** A tap on our bridge (the default, like libvirt); vhost-net when the host has /dev/vhost-net. */
  | { kind: 'tap'; tap: string; mac: string; vhost: boolean }
  /**
   * QEMU's user-mode network (slirp) with host forwards: needs no root, but every packet crosses
   * QEMU's userspace TCP/IP stack. Its private network is given the same addresses as the tap
   * network so the guest is configured the same way.
   */
  | {
      kind: 'user';
      mac: string;
      network: string;
      hostAddress: string;
      guestAddress: string;
      forwards: { protocol: 'tcp' | 'udp'; hostAddress: string; port: number }[];
    };

/** The NIC QEMU gives the guest: paravirtual virtio-net, or an emulated Intel 82540EM (e1000). */
export type GuestNic = 'virtio' | 'e1000';

/**
 * The machine QEMU emulates: q35 (a PC: PCI Express, SeaBIOS, the legacy PC devices) or microvm
 * (the Firecracker design in QEMU: no PCI, a minimal firmware (qboot) that jumps to the kernel,
 * virtio devices on MMIO announced to the guest in ACPI's DSDT).
 */
export type GuestMachine = 'q35' | 'microvm';

/** QEMU's device model for each NIC, on a PCI machine (q35). */
export const NIC_DEVICES: Readonly<Record<GuestNic, string>> = { virtio: 'virtio-net-pci', e1000: 'e1000' };

/** QEMU's device model for a NIC on `machine`: microvm has no PCI bus, so virtio-net sits on MMIO. */
export function nicDevice(machine: GuestMachine, nic: GuestNic): string {
  if (machine === 'q35') return NIC_DEVICES[nic];
  if (nic !== 'virtio')
    throw new Error(`QEMU command: the microvm machine has no PCI bus for the ${nic} NIC; only virtio (over MMIO)`);
  return 'virtio-net-device';
}

export interface QemuCommandSpec {
  binary?: string;
  boot: BootSpec;
  accelerator: Accelerator;
  memoryMb: number;
  cpus: number;
  net: NetSpec;
  /** Default virtio. vhost-net (NetSpec tap's vhost) serves virtio-net only. */
  nic?: GuestNic;
  /** Default q35. */
  machine?: GuestMachine;
  /** The serial console (ttyS0) is written to this file: it holds the readiness marker and any panic. */
  consoleLog: string;
  /** OSv seeds its random device from virtio-rng, as OSv's own run.py gives it. */
  rng?: boolean;
}

function checkField(value: string, what: string): string {
  // QEMU splits -drive/-netdev option strings on commas: a comma in a path would change their meaning.
  if (value.includes(','))
    throw new Error(
      `QEMU command: ${what} ${JSON.stringify(value)} contains a comma, which QEMU would read as an option separator`,
    );
  if (value.length === 0) throw new Error(`QEMU command: ${what} is empty`);
  return value;
}

export function buildQemuCommand(spec: QemuCommandSpec): string[] {
  if (!Number.isInteger(spec.memoryMb) || spec.memoryMb < 64)
    throw new Error(`QEMU command: memory ${spec.memoryMb} MiB is too small (at least 64)`);
  if (!Number.isInteger(spec.cpus) || spec.cpus < 1 || spec.cpus > 64)
    throw new Error(`QEMU command: ${spec.cpus} vCPUs is out of range (1..64)`);
  const argv = [
    spec.binary ?? 'qemu-system-x86_64',
    '-nodefaults',
    '-no-user-config',
    '-display',
    'none',
    '-monitor',
    'none',
  ];
  const machine = spec.machine ?? 'q35';
  // microvm's ACPI (on by default) is how the guest kernel finds the virtio-mmio devices: Debian's
  // kernel is built without CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES, so virtio_mmio.device= would not work.
  argv.push('-machine', machine === 'q35' ? 'q35' : 'microvm,acpi=on,pcie=off');
  if (spec.accelerator === 'kvm') argv.push('-accel', 'kvm', '-cpu', 'host');
  else argv.push('-accel', 'tcg');
  argv.push('-m', String(spec.memoryMb), '-smp', String(spec.cpus));
  argv.push('-serial', `file:${checkField(spec.consoleLog, 'console log path')}`);
  // A guest that panics or powers off ends QEMU, so a failed boot is seen at once, not at the timeout.
  argv.push('-no-reboot');
  const boot = spec.boot;
  if (boot.kind === 'kernel') {
    argv.push(
      '-kernel',
      checkField(boot.kernel, 'kernel path'),
      '-initrd',
      checkField(boot.initrd, 'initramfs path'),
      '-append',
      boot.append,
    );
  } else {
    argv.push(
      '-drive',
      `file=${checkField(boot.image, 'disk image path')},if=none,id=hd0,format=${boot.format},snapshot=on,cache=unsafe`,
    );
    if (machine === 'microvm')
      throw new Error('QEMU command: a disk image boots through firmware; the microvm machine boots a kernel');
    argv.push('-device', 'virtio-blk-pci,drive=hd0,bootindex=0');
  }
  const net = spec.net;
  if (net.kind === 'tap') {
    argv.push(
      '-netdev',
      `tap,id=net0,ifname=${checkField(net.tap, 'tap name')},script=no,downscript=no${net.vhost ? ',vhost=on' : ''}`,
    );
  } else {
    const forwards = net.forwards
      .map((f) => `,hostfwd=${f.protocol}:${f.hostAddress}:${f.port}-${net.guestAddress}:${f.port}`)
      .join('');
    argv.push(
      '-netdev',
      `user,id=net0,net=${net.network},host=${net.hostAddress},dhcpstart=${net.guestAddress}${forwards}`,
    );
  }
  const nic = spec.nic ?? 'virtio';
  if (net.kind === 'tap' && net.vhost && nic !== 'virtio')
    throw new Error(`QEMU command: vhost-net serves virtio-net only, not the ${nic} NIC`);
  argv.push('-device', `${nicDevice(machine, nic)},netdev=net0,mac=${net.mac}`);
  if (spec.rng) argv.push('-device', machine === 'q35' ? 'virtio-rng-pci' : 'virtio-rng-device');
  return argv;
}
