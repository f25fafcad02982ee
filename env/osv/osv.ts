// The OSv unikernel on QEMU/KVM (the paper used OSv v0.24): boots a given OSv image with the same
// QEMU networking as the Linux guest, so only the guest differs. OSv asks for its address by DHCP
// (as on libvirt's default network, where dnsmasq answers); a DHCP server on our bridge hands it
// the guest address. The image is built beforehand (build-plan.ts, scripts/build-osv-image.ts),
// from the public repositories or copies of them.

import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { runCommand } from '../../actions/lib/core/proc.ts';
import { untrustedPathProblem } from '../../actions/lib/core/trusted-path.ts';
import {
  type Availability,
  type EnvironmentContext,
  type EnvironmentDriver,
  EnvironmentError,
  type StartedEnvironment,
} from '../../actions/lib/measure/environment.ts';
import {
  cleanupQemuGuests,
  type GuestLaunch,
  portablePath,
  qemuVersionFrom,
  startQemuGuest,
  vhostRefusal,
} from '../qemu/guest.ts';
import type { GuestOptions } from '../variants.ts';
import type { BootSpec } from '../qemu/qemu-command.ts';
import { type OsvImageMetadata, metadataPathFor } from './build-plan.ts';

/** netserver's own start line: printed on OSv's console (its stdout) once the app runs. */
export const OSV_READY_MARKER = /Starting netserver with host/;
/** OSv's fatal messages: an abort, or an app that is not in the image. */
export const OSV_FAILURE_MARKERS = [/^Aborted/m, /Failed to load object/, /Kernel panic/];

export const NO_IMAGE_REASON =
  'no OSv image given (set --osv-image or VIRTNET_OSV_IMAGE; build one with scripts/build-osv-image.ts, see env/osv/README.md)';

export function osvImageSetting(settings: Record<string, string>): string | null {
  return settings.osvImage ?? process.env.VIRTNET_OSV_IMAGE ?? null;
}

/** qcow2 images start with "QFI\xfb"; anything else is booted raw. */
export function imageFormat(header: Buffer): 'qcow2' | 'raw' {
  return header.subarray(0, 4).equals(Buffer.from([0x51, 0x46, 0x49, 0xfb])) ? 'qcow2' : 'raw';
}

/** The osv environment, or a variant of it: its name and title, and vhost-net (OSv's NIC is virtio-net). */
export interface OsvEnvironmentOptions {
  name?: string;
  title?: string;
  vhost?: GuestOptions['vhost'];
}

export function osvGuestLaunch(boot: BootSpec, options: OsvEnvironmentOptions = {}): GuestLaunch {
  return {
    name: options.name ?? 'osv',
    base: 'osv',
    nic: 'virtio',
    vhost: options.vhost ?? 'auto',
    boot: () => boot,
    readyMarker: OSV_READY_MARKER,
    failureMarkers: OSV_FAILURE_MARKERS,
    memoryMb: 512,
    cpus: 1,
    dhcp: true,
    rng: true,
  };
}

async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export function readImageMetadata(image: string): OsvImageMetadata | null {
  const path = metadataPathFor(image);
  if (!existsSync(path)) return null;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as OsvImageMetadata;
  } catch {
    return null;
  }
}

async function available(settings: Record<string, string>, options: OsvEnvironmentOptions = {}): Promise<Availability> {
  const vhostRefused = vhostRefusal(options.vhost);
  if (vhostRefused) return { ok: false, reason: vhostRefused };
  const image = osvImageSetting(settings);
  if (!image) return { ok: false, reason: NO_IMAGE_REASON };
  if (!existsSync(image)) return { ok: false, reason: `the OSv image ${image} does not exist` };
  const r = await runCommand(['qemu-system-x86_64', '--version'], { timeoutMs: 10_000 }).catch((e: Error) => e);
  if (r instanceof Error) return { ok: false, reason: `QEMU is not installed: ${r.message}` };
  if (process.getuid?.() !== 0)
    return { ok: false, reason: 'the guest network (bridge, tap, iptables port maps, DHCP) needs root' };
  return { ok: true };
}

/**
 * Test seam: `boot` replaces the OSv image boot (a test boots the Linux guest asking for DHCP in
 * its place, to exercise readiness and teardown where no OSv image exists).
 */
export async function startOsv(
  ctx: EnvironmentContext,
  overrides: { boot?: BootSpec; readyMarker?: RegExp } = {},
  options: OsvEnvironmentOptions = {},
): Promise<StartedEnvironment> {
  const started = performance.now();
  const image = osvImageSetting(ctx.settings);
  if (!overrides.boot) {
    if (!image) throw new EnvironmentError(`osv: ${NO_IMAGE_REASON}`);
    if (!existsSync(image)) throw new EnvironmentError(`osv: the OSv image ${image} does not exist`);
    // Images live in a cache that outlives jobs: boot only one nobody else could have swapped.
    const untrusted = [image, metadataPathFor(image)]
      .filter(existsSync)
      .map((p) => untrustedPathProblem(p))
      .find(Boolean);
    if (untrusted)
      throw new EnvironmentError(`osv: ${untrusted}: refusing to boot it (another user could have altered it)`);
  }
  const boot: BootSpec = overrides.boot ?? {
    kind: 'disk',
    image: image!,
    format: imageFormat(readFileSync(image!).subarray(0, 4)),
  };
  const meta = image && !overrides.boot ? readImageMetadata(image) : null;
  const imageSha256 = boot.kind === 'disk' ? await sha256OfFile(boot.image) : 'not an OSv image (test boot)';
  if (meta?.imageSha256 && meta.imageSha256 !== imageSha256)
    throw new EnvironmentError(
      `osv: the image ${image} has sha256 ${imageSha256}, but its build metadata recorded ${meta.imageSha256}: it changed after it was built; rebuild it (scripts/build-osv-image.ts)`,
    );
  const launch = osvGuestLaunch(boot, options);
  if (overrides.readyMarker) launch.readyMarker = overrides.readyMarker;
  const guest = await startQemuGuest(ctx, launch);
  const tcg = guest.accelerator.accelerator === 'tcg';
  const qemu = await runCommand(['qemu-system-x86_64', '--version'], { timeoutMs: 10_000 });
  const version = qemuVersionFrom(qemu.stdout);
  const osvCommit = meta?.osvCommit ?? 'unknown (no build metadata beside the image)';
  return {
    endpoint: guest.endpoint,
    stop: guest.stop,
    cpuScope: () => ({ cgroups: [], pids: guest.qemuPid === null ? [] : [guest.qemuPid] }),
    description: {
      name: launch.name,
      summary: `OSv ${meta?.osvVersion ?? osvCommit.slice(0, 12)} (${meta?.variant ?? 'image'}) on QEMU ${version}, ${tcg ? 'TCG software emulation (NOT KVM: no hardware virtualisation here)' : 'KVM'}, vhost-net ${guest.details.vhostNet?.split(' ')[0] ?? 'off'}, tap + bridge + DNAT`,
      details: {
        ...guest.details,
        qemu: version,
        osvImage: boot.kind === 'disk' ? portablePath(boot.image) : 'test boot',
        osvImageSha256: imageSha256,
        osvCommit,
        osvAppsCommit: meta?.appsCommit ?? 'unknown',
        osvVariant: meta?.variant ?? 'unknown',
        osvCommandLine: meta?.commandLine ?? 'as built into the image',
        guestAddressing: 'DHCP from busybox udhcpd on the bridge (static lease for the guest MAC)',
      },
      accelerator: guest.accelerator.accelerator,
      startupSeconds: (performance.now() - started) / 1000,
    },
  };
}

export function createOsvEnvironment(options: OsvEnvironmentOptions = {}): EnvironmentDriver {
  return {
    name: options.name ?? 'osv',
    title: options.title ?? 'OSv (QEMU/KVM)',
    available: (settings) => available(settings, options),
    start: (ctx) => startOsv(ctx, {}, options),
    // QEMU is labelled by the base (osv:qemu), so this finds what any osv variant left.
    cleanup: (onlyIndex = null) => cleanupQemuGuests('osv', onlyIndex),
  };
}

export const osvEnvironment: EnvironmentDriver = createOsvEnvironment();
