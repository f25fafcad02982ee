// How an OSv image for netperf is built, as pure data: the pinned OSv and osv-apps commits and
// netperf source, the Debian/Ubuntu packages the build needs, the steps in order, and the cache
// key hashed from every input. build-image.ts executes it (for scripts/build-osv-image.ts and the
// build-osv-image action). Nothing here downloads anything.

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
  /**
   * The osv-apps commit built into the image: osv-apps master of 2024-06-14 ("fio: bump to the
   * version 3.29"), the newest commit of the public osv-apps history copied so far. The build
   * checks it out in apps/ whatever the OSv tree records (see recordedAppsCommit).
   */
  appsCommit: '2347c09a7fb55e6e13474a83339d6f4e26e43c85',
  /**
   * What the OSv commit records for its `apps` submodule. It was not in the osv-apps history
   * available, so it is not the default; `--apps-commit` selects it where it can be fetched.
   */
  recordedAppsCommit: 'b2d53b348c15ee1c1a05b1f23fe4f4702dc9cbef',
  repository: 'https://github.com/cloudius-systems/osv.git',
} as const;

/**
 * The netperf source OSv's netperf app builds (apps/netperf/GET downloads it with wget): netperf
 * 2.7.0, the paper's version, as the zip GitHub serves for the HewlettPackard/netperf tag. The
 * same files come from `git archive --format=zip --prefix=netperf-netperf-2.7.0/ netperf-2.7.0`
 * in a copy of that repository. Zips of the same files differ in their bytes between zlib builds
 * and compression levels, so the source is pinned by the hash of its content (zip-content.ts:
 * every file's path, mode and sha256), not of the zip's bytes.
 */
export const PINNED_NETPERF = {
  version: '2.7.0',
  tag: 'netperf-2.7.0',
  commit: 'f46c0319851d85e135e46289fa484b01705af73e',
  /** The URL in osv-apps' netperf/GET: the build's only download, served from the checked file. */
  url: 'https://codeload.github.com/HewlettPackard/netperf/zip/netperf-2.7.0',
  /** Where GET puts the download, which it then unzips. */
  fileName: 'netperf-2.7.0.zip',
  /** The one folder the zip unpacks into (GET renames it). */
  topFolder: 'netperf-netperf-2.7.0/',
  /** 155 files, 25 of them executable. */
  contentSha256: '9e987c3eafaca58911b1833f36b75b277e7dd3d3cba0c2b0a215334cfb6525a3',
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
  'build-essential',
  'git',
  'libboost-all-dev',
  'libedit-dev',
  'libyaml-cpp-dev',
  'genromfs',
  'python3-dpkt',
  'python3-requests',
  'gawk',
  'flex',
  'bison',
  'autoconf',
  'automake',
  'libtool',
  'lua5.3',
  'liblua5.3-dev',
  'pax-utils',
  'python3-pyelftools',
  'qemu-system-x86',
  'qemu-utils',
  'libssl-dev',
  'libncurses-dev',
  'wget',
  'unzip',
  'ca-certificates',
] as const;

/**
 * netperf-app: OSv's own `netperf` app, which builds netperf 2.7.0 (the paper's version) from the
 * pinned source and cross-builds netserver as /tools/netserver.so. host-netserver: the host's
 * unmodified netserver binary and its libraries added to an otherwise empty image.
 */
export type OsvVariant = 'netperf-app' | 'host-netserver';

export const OSV_VARIANTS: readonly OsvVariant[] = ['netperf-app', 'host-netserver'];

export interface OsvBuildRequest {
  variant: OsvVariant;
  /** Where OSv's source is checked out (reused between builds). */
  sourceDir: string;
  /** Where finished images and their metadata are kept: the cache (and the netperf download). */
  outDir: string;
  jobs: number;
  commit?: string;
  /** The osv-apps commit to check out in apps/, whatever the OSv tree records. */
  appsCommit?: string;
  repository?: string;
  /** For netperf-app: a local copy of the netperf zip instead of downloading it (checked the same way). */
  netperfZip?: string;
  /** For host-netserver: the sha256 of the host's netserver binary, part of the cache key. */
  hostNetserverSha256?: string;
}

/** A command; `cwd` is the OSv source tree unless said otherwise. */
export interface RunStep {
  kind: 'run';
  name: string;
  argv: string[];
  cwd: string;
  /** Skipped when this path already exists (a checkout or download reused from an earlier build). */
  skipIfExists?: string;
  /** Skipped when this command succeeds (a check that the step's work is already done). */
  skipIfSucceeds?: string[];
  /** Added to the environment of this command only. */
  env?: Record<string, string>;
  /** A folder put in front of PATH for this command only. */
  pathPrepend?: string;
}

/** A file the plan writes (a small tool for the build). */
export interface WriteStep {
  kind: 'write';
  name: string;
  path: string;
  text: string;
  mode: number;
}

/** A zip that must hold exactly the pinned files: its content hash (zip-content.ts) must match. */
export interface CheckZipStep {
  kind: 'check-zip';
  name: string;
  file: string;
  topFolder: string;
  contentSha256: string;
}

export type BuildStep = RunStep | WriteStep | CheckZipStep;

export interface NetperfSource {
  version: string;
  tag: string;
  commit: string;
  contentSha256: string;
  /** `download` (from the URL) or `local file`; a path is not recorded, it says nothing of the content. */
  from: 'download' | 'local file';
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
  netperfSource?: NetperfSource;
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
const PLAN_VERSION = 2;

/**
 * Stands in for wget while OSv builds: osv-apps' netperf/GET first empties its download folder,
 * then runs `wget -c URL -O netperf-2.7.0.zip`, so a file placed there beforehand would be lost.
 * This answers that one call with the pinned zip, already checked, and refuses any other
 * download, so nothing unpinned gets into the image and nothing is fetched from the network.
 */
export const WGET_STAND_IN = `#!/bin/sh
# virtnet's OSv build: stands in for wget (see env/osv/build-plan.ts, WGET_STAND_IN).
out= url=
while [ $# -gt 0 ]; do
  case $1 in
    -O|--output-document) out=$2; shift 2 ;;
    -O*) out=\${1#-O}; shift ;;
    --output-document=*) out=\${1#*=}; shift ;;
    -*) shift ;;
    *) url=$1; shift ;;
  esac
done
if [ "$url" = "$VIRTNET_NETPERF_URL" ] && [ -n "$out" ]; then
  exec cp -- "$VIRTNET_NETPERF_ZIP" "$out"
fi
echo "virtnet OSv build: refused to download \${url:-(no URL)}: only $VIRTNET_NETPERF_URL (with -O FILE) is served, from the pinned $VIRTNET_NETPERF_ZIP" >&2
exit 1
`;

export function commandLineFor(variant: OsvVariant): string {
  return variant === 'netperf-app' ? '--rootfs=rofs /tools/netserver.so -D -4 -f' : '--rootfs=rofs /netserver -D -4 -f';
}

/** The metadata sidecar written beside an image: `usr.img` -> `usr.img.virtnet.json`. */
export function metadataPathFor(image: string): string {
  return `${image}.virtnet.json`;
}

function checkCommit(commit: string, what: string): string {
  if (!/^[0-9a-f]{40}$/.test(commit))
    throw new Error(`${what}: expected a full 40-hex-digit commit, got ${JSON.stringify(commit)}`);
  return commit;
}

/** A command that succeeds when every one of these Debian packages is installed. */
export function installedCheck(packages: readonly string[]): string[] {
  // dpkg-query prints "ii" for an installed package, other states otherwise, and an error for an
  // unknown one: anything but "ii" lines means something is missing.
  return [
    'sh',
    '-c',
    'test -z "$(dpkg-query -W -f=\'${db:Status-Abbrev}\\n\' "$@" 2>&1 | grep -v "^ii")"',
    'installed',
    ...packages,
  ];
}

/** Where the netperf zip is downloaded when no local copy is given. */
export function netperfDownloadPath(outDir: string): string {
  return join(outDir, 'downloads', PINNED_NETPERF.fileName);
}

/** Obtaining and checking the netperf source, and the wget stand-in that hands it to OSv's build. */
function netperfSteps(request: OsvBuildRequest, zip: string, tools: string): BuildStep[] {
  const steps: BuildStep[] = [];
  if (!request.netperfZip) {
    steps.push({
      kind: 'run',
      name: `download netperf ${PINNED_NETPERF.version}`,
      argv: [
        'sh',
        '-c',
        'mkdir -p "$(dirname "$0")" && wget -nv -O "$0.partial" "$1" && mv -- "$0.partial" "$0"',
        zip,
        PINNED_NETPERF.url,
      ],
      cwd: request.outDir,
      skipIfExists: zip,
    });
  }
  steps.push(
    {
      kind: 'check-zip',
      name: `check the netperf ${PINNED_NETPERF.version} source`,
      file: zip,
      topFolder: PINNED_NETPERF.topFolder,
      contentSha256: PINNED_NETPERF.contentSha256,
    },
    {
      kind: 'write',
      name: 'install the wget stand-in for the build',
      path: join(tools, 'wget'),
      text: WGET_STAND_IN,
      mode: 0o755,
    },
    // GET runs only while apps/netperf has no usr.manifest: clean it so the image's netserver is
    // always built from the checked source, never left over from an earlier build.
    {
      kind: 'run',
      name: 'clean the netperf app',
      argv: ['git', '-C', 'apps', 'clean', '-ffdxq', '--', 'netperf'],
      cwd: request.sourceDir,
    },
  );
  return steps;
}

export function osvBuildPlan(request: OsvBuildRequest): OsvBuildPlan {
  if (!OSV_VARIANTS.includes(request.variant))
    throw new Error(`OSv variant: expected one of ${OSV_VARIANTS.join(', ')}, got ${JSON.stringify(request.variant)}`);
  if (!Number.isInteger(request.jobs) || request.jobs < 1 || request.jobs > 256)
    throw new Error(`OSv build: jobs ${request.jobs} out of range (1..256)`);
  const commit = checkCommit(request.commit ?? PINNED_OSV.commit, 'OSv commit');
  const appsCommit = checkCommit(request.appsCommit ?? PINNED_OSV.appsCommit, 'osv-apps commit');
  const repository = request.repository ?? PINNED_OSV.repository;
  if (request.variant === 'host-netserver' && !request.hostNetserverSha256)
    throw new Error('OSv variant host-netserver: the host netserver sha256 is needed for the cache key');
  if (request.variant === 'host-netserver' && request.netperfZip)
    throw new Error('OSv variant host-netserver: a netperf zip is used only by the netperf-app variant');
  const netperfApp = request.variant === 'netperf-app';
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
    ...(netperfApp
      ? { netperf: { version: PINNED_NETPERF.version, contentSha256: PINNED_NETPERF.contentSha256 } }
      : {}),
    ...(request.variant === 'host-netserver' ? { hostNetserverSha256: request.hostNetserverSha256 } : {}),
  };
  const key = createHash('sha256').update(JSON.stringify(inputs)).digest('hex').slice(0, 16);
  const src = request.sourceDir;
  const out = request.outDir;
  const jobs = `-j${request.jobs}`;
  const run = (name: string, argv: string[], cwd = src, extra: Partial<RunStep> = {}): RunStep => ({
    kind: 'run',
    name,
    argv,
    cwd,
    ...extra,
  });
  // Both apt steps are skipped when every package is installed already, so a machine that has
  // them builds without a package mirror.
  const packagesInstalled = { skipIfSucceeds: installedCheck(OSV_BUILD_PACKAGES) };
  const steps: BuildStep[] = [
    run('update the package lists', ['apt-get', 'update'], out, packagesInstalled),
    run(
      'install build packages',
      ['apt-get', 'install', '-y', '--no-install-recommends', ...OSV_BUILD_PACKAGES],
      out,
      packagesInstalled,
    ),
    run('clone OSv', ['git', 'clone', '--no-checkout', repository, src], out, { skipIfExists: join(src, '.git') }),
    run('fetch the pinned commit', ['git', 'fetch', 'origin', commit]),
    run('check out the pinned commit', ['git', 'checkout', '--force', '--detach', commit]),
    // `git submodule update` checks out what the superproject's index records, so recording the
    // chosen osv-apps commit there (not committed; the checkout above resets it) makes git clone,
    // fetch and check out exactly that commit in apps/.
    run('select the osv-apps commit', ['git', 'update-index', '--cacheinfo', `160000,${appsCommit},apps`]),
    run('init submodules', ['git', 'submodule', 'update', '--init', '--force', ...OSV_SUBMODULES]),
    run('check the apps submodule', [
      'sh',
      '-c',
      'test "$(git -C apps rev-parse HEAD)" = "$0" || { echo "apps is at $(git -C apps rev-parse HEAD), expected $0" >&2; exit 1; }',
      appsCommit,
    ]),
  ];
  const tools = join(out, 'build-tools');
  const zip = request.netperfZip ?? netperfDownloadPath(out);
  if (netperfApp) {
    steps.push(
      ...netperfSteps(request, zip, tools),
      run('build OSv with the netperf app', ['./scripts/build', jobs, 'fs=rofs', 'image=netperf'], src, {
        env: { VIRTNET_NETPERF_URL: PINNED_NETPERF.url, VIRTNET_NETPERF_ZIP: zip },
        pathPrepend: tools,
      }),
    );
  } else {
    steps.push(
      run('clean the previous manifest', ['rm', '-f', 'build/last/append.manifest', 'build/last/append_cmdline']),
      run('build the OSv kernel', ['./scripts/build', jobs, 'fs=rofs', 'image=empty']),
      // manifest_from_host.sh calls lddtree, a Python script that needs the distribution's
      // python3-pyelftools: a python3 from a version manager earlier on PATH lacks it.
      run('manifest of the host netserver', [
        'env',
        'PATH=/usr/sbin:/usr/bin:/sbin:/bin',
        './scripts/manifest_from_host.sh',
        '-w',
        'netserver',
      ]),
      run('build the image with the host netserver', [
        './scripts/build',
        jobs,
        'fs=rofs',
        'image=empty',
        '--append-manifest',
      ]),
      run('set the command line', ['./scripts/imgedit.py', 'setargs', 'build/last/usr.img', commandLine]),
    );
  }
  const image = join(out, `osv-${request.variant}-${key}.img`);
  steps.push(run('keep the image', ['cp', '--', join(src, 'build/last/usr.img'), `${image}.partial`]));
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
      netperf: netperfApp
        ? `netperf ${PINNED_NETPERF.version} (HewlettPackard/netperf tag ${PINNED_NETPERF.tag}, content sha256 ${PINNED_NETPERF.contentSha256}) built by the OSv netperf app`
        : `the host's netserver (sha256 ${request.hostNetserverSha256})`,
      ...(netperfApp
        ? {
            netperfSource: {
              version: PINNED_NETPERF.version,
              tag: PINNED_NETPERF.tag,
              commit: PINNED_NETPERF.commit,
              contentSha256: PINNED_NETPERF.contentSha256,
              from: request.netperfZip ? ('local file' as const) : ('download' as const),
            },
          }
        : {}),
      fs: 'rofs',
    },
  };
}
