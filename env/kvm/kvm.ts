// A Linux guest on QEMU/KVM (the paper's libvirt + QEMU + Ubuntu guest): Debian's kernel with an
// initramfs that execs netserver, booted by QEMU on a tap + bridge with libvirt-like port maps.
// Under TCG (no hardware virtualisation) the numbers are software emulation, and say so.

import { existsSync } from 'node:fs';
import { runCommand } from '../../actions/lib/core/proc.ts';
import {
  type EnvironmentContext,
  type EnvironmentDriver,
  EnvironmentError,
  type StartedEnvironment,
} from '../../actions/lib/measure/environment.ts';
import { hostTscKhz } from '../qemu/accelerator.ts';
import {
  cleanupQemuGuests,
  hostAcceleratorFacts,
  consoleText,
  type GuestLaunch,
  qemuVersionFrom,
  startQemuGuest,
  vhostRefusal,
} from '../qemu/guest.ts';
import type { KvmOptions } from '../variants.ts';
import {
  ensureGuestImage,
  GUEST_READY_MARKER,
  type GuestImage,
  kernelCommandLine,
  nicDeviceFromConsole,
  nicDriverFromConsole,
} from './guest-image.ts';

/** Console lines after which the guest cannot come up: give up at once instead of at the timeout. */
export const LINUX_FAILURE_MARKERS = [/Kernel panic - not syncing/, /virtnet-init: no eth0/];

export function linuxGuestLaunch(
  image: Pick<GuestImage, 'kernel' | 'initrd'>,
  options: {
    port: number;
    extraAppend?: string;
    readyMarker?: RegExp;
    dhcp?: boolean;
    name?: string;
    base?: string;
    /**
     * The host's TSC in kHz, given to a microvm guest under TCG (tsc_early_khz): with no HPET or ACPI
     * PM timer on microvm, the kernel calibrates its TSC against the PIT only, which fails when QEMU
     * is short of CPU, and the guest then hangs before its first console line. Null: none known.
     */
    hostTscKhz?: number | null;
  } & Partial<KvmOptions>,
): GuestLaunch {
  return {
    name: options.name ?? 'kvm',
    base: options.base ?? 'kvm',
    nic: options.nic ?? 'virtio',
    vhost: options.vhost ?? 'auto',
    machine: options.machine ?? 'q35',
    boot: (plan, accelerator) => ({
      kind: 'kernel',
      kernel: image.kernel,
      initrd: image.initrd,
      append: [
        kernelCommandLine({
          address: options.dhcp ? 'dhcp' : `${plan.guestAddress}/${plan.prefixLength}`,
          gateway: options.dhcp ? null : plan.bridgeAddress,
          port: options.port,
          quiet: true,
        }),
        ...(options.machine === 'microvm' && accelerator === 'tcg' && options.hostTscKhz
          ? [`tsc_early_khz=${options.hostTscKhz}`]
          : []),
        ...(options.extraAppend ? [options.extraAppend] : []),
      ].join(' '),
    }),
    readyMarker: options.readyMarker ?? new RegExp(GUEST_READY_MARKER),
    failureMarkers: LINUX_FAILURE_MARKERS,
    memoryMb: 256,
    cpus: 1,
    dhcp: options.dhcp ?? false,
  };
}

async function qemuVersion(): Promise<string> {
  const r = await runCommand(['qemu-system-x86_64', '--version'], { timeoutMs: 10_000 }).catch(() => null);
  return r ? qemuVersionFrom(r.stdout) : 'unknown';
}

/** The kvm environment, or a variant of it: its name and title, NIC, vhost-net and machine. */
export interface KvmEnvironmentOptions extends Partial<KvmOptions> {
  name?: string;
  title?: string;
}

async function available(options: Partial<KvmOptions> = {}) {
  const r = await runCommand(['qemu-system-x86_64', '--version'], { timeoutMs: 10_000 }).catch((e: Error) => e);
  if (r instanceof Error) return { ok: false as const, reason: `QEMU is not installed: ${r.message}` };
  if (process.getuid?.() !== 0)
    return { ok: false as const, reason: 'the guest network (bridge, tap, iptables port maps) needs root' };
  if (!existsSync('/dev/net/tun'))
    return { ok: false as const, reason: '/dev/net/tun is missing: QEMU cannot open a tap device' };
  for (const tool of ['busybox', 'netserver', 'cpio', 'iptables', 'apt-get']) {
    const w = await runCommand(['sh', '-c', `command -v ${tool}`], { timeoutMs: 5000 });
    if (w.exitCode !== 0)
      return {
        ok: false as const,
        reason: `${tool} is not installed (npm run reproduce installs the system packages)`,
      };
  }
  const vhostRefused = vhostRefusal(options.vhost);
  if (vhostRefused) return { ok: false as const, reason: vhostRefused };
  return { ok: true as const };
}

/** Test seam: the boot of a real run, with a kernel command line or marker changed to provoke failures. */
export async function startKvm(
  ctx: EnvironmentContext,
  overrides: { extraAppend?: string; readyMarker?: RegExp } = {},
  options: KvmEnvironmentOptions = {},
): Promise<StartedEnvironment> {
  const name = options.name ?? 'kvm';
  const started = performance.now();
  let built;
  try {
    built = await ensureGuestImage({ log: ctx.log });
  } catch (e) {
    throw new EnvironmentError(`${name}: could not build the guest: ${(e as Error).message}`);
  }
  const image = built.image;
  const tscKhz =
    options.machine === 'microvm'
      ? hostTscKhz(hostAcceleratorFacts().cpuinfo, existsSync('/sys/devices/system/cpu/cpu0/cpufreq'))
      : null;
  const guest = await startQemuGuest(
    ctx,
    linuxGuestLaunch(image, {
      port: ctx.ports.control,
      name,
      nic: options.nic,
      vhost: options.vhost,
      machine: options.machine,
      hostTscKhz: tscKhz,
      ...overrides,
    }),
  );
  const machine = options.machine ?? 'q35';
  const tcg = guest.accelerator.accelerator === 'tcg';
  const version = await qemuVersion();
  return {
    endpoint: guest.endpoint,
    stop: guest.stop,
    cpuScope: () => ({ cgroups: [], pids: guest.qemuPid === null ? [] : [guest.qemuPid] }),
    description: {
      name,
      summary: `Debian Linux ${image.kernelVersion} guest (initramfs + netserver) on QEMU ${version} ${machine === 'microvm' ? 'microvm (no PCI, virtio-mmio)' : 'q35'}, ${tcg ? 'TCG software emulation (NOT KVM: no hardware virtualisation here)' : 'KVM'}, ${guest.details.nic?.split(' ')[0] ?? 'virtio'} NIC, vhost-net ${guest.details.vhostNet?.split(' ')[0] ?? 'off'}, tap + bridge + DNAT`,
      details: {
        ...guest.details,
        qemu: version,
        kernelPackage: `${image.kernelPackage} ${image.kernelPackageVersion}`,
        kernelVersion: image.kernelVersion,
        kernelBoot: image.kernelBoot,
        guestImageKey: image.key,
        guestImageSha256: image.imageSha256,
        guestModules: image.modules.join(' '),
        guestNicDriver: nicDriverFromConsole(consoleText(guest.consoleLog)) ?? 'unknown (not on the console)',
        guestNicDevice: nicDeviceFromConsole(consoleText(guest.consoleLog)) ?? 'unknown (not on the console)',
        guestNetserver: image.netserver,
        ...(machine === 'microvm'
          ? {
              guestTsc:
                guest.accelerator.accelerator !== 'tcg'
                  ? 'calibrated by the guest (KVM)'
                  : tscKhz
                    ? `tsc_early_khz=${tscKhz}: the host's TSC, which TCG passes through (microvm has no HPET or PM timer to calibrate against)`
                    : "calibrated by the guest against the PIT only (the host's TSC frequency is unknown): may hang under load",
            }
          : {}),
        guestBuild: built.built
          ? `built in ${built.seconds.toFixed(1)} s`
          : `cached (built ${image.builtAt} in ${image.buildSeconds.toFixed(1)} s)`,
      },
      accelerator: guest.accelerator.accelerator,
      // Until netserver answers; a guest build on a cold cache is reported in details, not here.
      startupSeconds: built.built ? guest.bootSeconds : (performance.now() - started) / 1000,
    },
  };
}

export function createKvmEnvironment(options: KvmEnvironmentOptions = {}): EnvironmentDriver {
  return {
    name: options.name ?? 'kvm',
    title: options.title ?? 'Linux guest (QEMU/KVM)',
    available: () => available(options),
    start: (ctx) => startKvm(ctx, {}, options),
    // QEMU is labelled by the base (kvm:qemu), so this finds what any kvm variant left.
    cleanup: (onlyIndex = null) => cleanupQemuGuests('kvm', onlyIndex),
  };
}

export const kvmEnvironment: EnvironmentDriver = createKvmEnvironment();
