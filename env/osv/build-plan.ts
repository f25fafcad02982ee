// How an OSv image for netperf is built on a runner with internet access, as pure data: the
// pinned OSv commit, the Debian/Ubuntu packages its build needs, the commands in order, and the
// cache key hashed from every input. build-image.ts executes it; the build-osv-image action will
// call that. Nothing here downloads anything.

import { createHash } from 'node:crypto';
import { join } from 'node:path';

/**
 * The OSv commit we build: the newest master commit seen (2026-08-17, `git describe`
 * v0.57.0-398-g0e34e4dc). The paper used OSv v0.24 (2015), whose QEMU options (-redir) modern
 * QEMU no longer has, so a current OSv is pinned and recorded instead.
 */
export const PINNED_OSV = {
  commit: '0e34e4dc2b278b7f64e4169abbf297b7de46fb6b',
  describe: 'v0.57.0-398-g0e34e4dc',
  /** The osv-apps commit that OSv commit pins as its `apps` submodule. */
  appsCommit: 'b2d53b348c15ee1c1a05b1f23fe4f4702dc9cbef',
  repository: 'https://github.com/cloudius-systems/osv.git',
} as const;

/**
 * The submodules a rofs netperf image needs. Not `--recursive` and not open_zfs: that would pull
 * OpenZFS, which an fs=rofs image does not use.
 */
export const OSV_SUBMODULES = ['external/x64/acpica', 'musl_0.9.12', 'musl_1.2.1', 'kbuild', 'apps'] as const;

/**
 * What OSv's build needs on Debian 12 / Ubuntu. OSv's scripts/setup.py knows Ubuntu 16.04-24.04
 * but refuses Debian 12, so the list is given here (measured on Debian 12).
 */
export const OSV_BUILD_PACKAGES = [
  'build-essential', 'git', 'libboost-all-dev', 'libedit-dev', 'libyaml-cpp-dev', 'genromfs', 'python3-dpkt', 'python3-requests',
  'gawk', 'flex', 'bison', 'autoconf', 'automake', 'libtool', 'lua5.3', 'liblua5.3-dev', 'pax-utils', 'python3-pyelftools',
  'qemu-system-x86', 'qemu-utils', 'libssl-dev', 'libncurses-dev', 'wget', 'unzip', 'ca-certificates',
] as const;

/**
 * netperf-app: OSv's own `netperf` app, which downloads netperf 2.7.0 (the paper's version) and
 * cross-builds netserver as /tools/netserver.so. host-netserver: the host's unmodified netserver
 * binary and its libraries added to an otherwise empty image.
 */
export type OsvVariant = 'netperf-app' | 'host-netserver';

export const OSV_VARIANTS: readonly OsvVariant[] = ['netperf-app', 'host-netserver'];

export interface OsvBuildRequest {
  variant: OsvVariant;
  /** Where OSv's source is checked out (reused between builds). */
  sourceDir: string;
  /** Where finished images and their metadata are kept: the cache. */
  outDir: string;
  jobs: number;
  commit?: string;
  appsCommit?: string;
  repository?: string;
  /** For host-netserver: the sha256 of the host's netserver binary, part of the cache key. */
  hostNetserverSha256?: string;
}

export interface BuildStep {
  name: string;
  argv: string[];
  /** Working directory: the OSv source tree unless said otherwise. */
  cwd: string;
  /** Skipped when this path already exists (a checkout reused from an earlier build). */
  skipIfExists?: string;
}

export interface OsvImageMetadata {
  kind: 'virtnet-osv-image';
  key: string;
  variant: OsvVariant;
  osvCommit: string;
  osvVersion: string;
  appsCommit: string;
  commandLine: string;
  netperf: string;
  fs: 'rofs';
  builtAt?: string;
  buildSeconds?: number;
  imageSha256?: string;
}

export interface OsvBuildPlan {
  key: string;
  inputs: Record<string, unknown>;
  packages: string[];
  steps: BuildStep[];
  /** The image OSv's build leaves, and where the plan's last step copies it. */
  builtImage: string;
  image: string;
  metadataFile: string;
  metadata: OsvImageMetadata;
}

/** Bump when the steps change in a way the inputs do not show. */
const PLAN_VERSION = 1;

export function commandLineFor(variant: OsvVariant): string {
  return variant === 'netperf-app' ? '--rootfs=rofs /tools/netserver.so -D -4 -f' : '--rootfs=rofs /netserver -D -4 -f';
}

/** The metadata sidecar written beside an image: `usr.img` -> `usr.img.virtnet.json`. */
export function metadataPathFor(image: string): string {
  return `${image}.virtnet.json`;
}

function checkCommit(commit: string, what: string): string {
  if (!/^[0-9a-f]{40}$/.test(commit)) throw new Error(`${what}: expected a full 40-hex-digit commit, got ${JSON.stringify(commit)}`);
  return commit;
}

export function osvBuildPlan(request: OsvBuildRequest): OsvBuildPlan {
  if (!OSV_VARIANTS.includes(request.variant)) throw new Error(`OSv variant: expected one of ${OSV_VARIANTS.join(', ')}, got ${JSON.stringify(request.variant)}`);
  if (!Number.isInteger(request.jobs) || request.jobs < 1 || request.jobs > 256) throw new Error(`OSv build: jobs ${request.jobs} out of range (1..256)`);
  const commit = checkCommit(request.commit ?? PINNED_OSV.commit, 'OSv commit');
  const appsCommit = checkCommit(request.appsCommit ?? PINNED_OSV.appsCommit, 'osv-apps commit');
  const repository = request.repository ?? PINNED_OSV.repository;
  if (request.variant === 'host-netserver' && !request.hostNetserverSha256) throw new Error('OSv variant host-netserver: the host netserver sha256 is needed for the cache key');
  const commandLine = commandLineFor(request.variant);
  const inputs = {
    planVersion: PLAN_VERSION,
    variant: request.variant,
    commit,
    appsCommit,
    submodules: OSV_SUBMODULES,
    packages: OSV_BUILD_PACKAGES,
    commandLine,
    fs: 'rofs',
    ...(request.variant === 'host-netserver' ? { hostNetserverSha256: request.hostNetserverSha256 } : {}),
  };
  const key = createHash('sha256').update(JSON.stringify(inputs)).digest('hex').slice(0, 16);
  const src = request.sourceDir;
  const jobs = `-j${request.jobs}`;
  const steps: BuildStep[] = [
    { name: 'install build packages', argv: ['apt-get', 'install', '-y', '--no-install-recommends', ...OSV_BUILD_PACKAGES], cwd: request.outDir },
    { name: 'clone OSv', argv: ['git', 'clone', '--no-checkout', repository, src], cwd: request.outDir, skipIfExists: join(src, '.git') },
    { name: 'fetch the pinned commit', argv: ['git', 'fetch', 'origin', commit], cwd: src },
    { name: 'check out the pinned commit', argv: ['git', 'checkout', '--force', '--detach', commit], cwd: src },
    { name: 'init submodules', argv: ['git', 'submodule', 'update', '--init', '--force', ...OSV_SUBMODULES], cwd: src },
    { name: 'check the apps submodule', argv: ['sh', '-c', 'test "$(git -C apps rev-parse HEAD)" = "$0" || { echo "apps is at $(git -C apps rev-parse HEAD), expected $0" >&2; exit 1; }', appsCommit], cwd: src },
  ];
  if (request.variant === 'netperf-app') {
    steps.push({ name: 'build OSv with the netperf app', argv: ['./scripts/build', jobs, 'fs=rofs', 'image=netperf'], cwd: src });
  } else {
    steps.push(
      { name: 'clean the previous manifest', argv: ['rm', '-f', 'build/last/append.manifest', 'build/last/append_cmdline'], cwd: src },
      { name: 'build the OSv kernel', argv: ['./scripts/build', jobs, 'fs=rofs', 'image=empty'], cwd: src },
      // manifest_from_host.sh calls lddtree, a Python script that needs the distribution's
      // python3-pyelftools: a python3 from a version manager earlier on PATH lacks it.
      { name: 'manifest of the host netserver', argv: ['env', 'PATH=/usr/sbin:/usr/bin:/sbin:/bin', './scripts/manifest_from_host.sh', '-w', 'netserver'], cwd: src },
      { name: 'build the image with the host netserver', argv: ['./scripts/build', jobs, 'fs=rofs', 'image=empty', '--append-manifest'], cwd: src },
      { name: 'set the command line', argv: ['./scripts/imgedit.py', 'setargs', 'build/last/usr.img', commandLine], cwd: src },
    );
  }
  const image = join(request.outDir, `osv-${request.variant}-${key}.img`);
  steps.push({ name: 'keep the image', argv: ['cp', '--', join(src, 'build/last/usr.img'), `${image}.partial`], cwd: src });
  return {
    key,
    inputs,
    packages: [...OSV_BUILD_PACKAGES],
    steps,
    builtImage: join(src, 'build/last/usr.img'),
    image,
    metadataFile: metadataPathFor(image),
    metadata: {
      kind: 'virtnet-osv-image',
      key,
      variant: request.variant,
      osvCommit: commit,
      osvVersion: commit === PINNED_OSV.commit ? PINNED_OSV.describe : commit.slice(0, 12),
      appsCommit,
      commandLine,
      netperf: request.variant === 'netperf-app' ? 'netperf 2.7.0 built by the OSv netperf app' : `the host's netserver (sha256 ${request.hostNetserverSha256})`,
      fs: 'rofs',
    },
  };
}
