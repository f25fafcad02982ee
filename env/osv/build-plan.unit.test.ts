// The OSv image build plan, as data: pinned commits and netperf source, submodules, packages,
// steps, cache key.

import { describe, expect, it } from 'vitest';
import {
  type BuildStep,
  commandLineFor,
  metadataPathFor,
  netperfDownloadPath,
  OSV_BUILD_PACKAGES,
  OSV_SUBMODULES,
  osvBuildPlan,
  PINNED_NETPERF,
  PINNED_OSV,
  type RunStep,
} from './build-plan.ts';
import { imageFormat, NO_IMAGE_REASON, osvEnvironment, osvImageSetting } from './osv.ts';

const request = { sourceDir: '/b/osv', outDir: '/b/images', jobs: 2 };

/** One line per step, as a reader of the build log would see it. */
function lineOf(step: BuildStep): string {
  if (step.kind === 'run') return `${step.cwd}$ ${step.argv.join(' ')}`;
  if (step.kind === 'write') return `write ${step.path} (${step.mode.toString(8)})`;
  return `check ${step.file} under ${step.topFolder} = ${step.contentSha256}`;
}

function runSteps(steps: BuildStep[]): RunStep[] {
  return steps.filter((s): s is RunStep => s.kind === 'run');
}

describe('OSv build plan', () => {
  it('builds the netperf app from the pinned commits and netperf source, rofs, with only the submodules it needs', () => {
    const plan = osvBuildPlan({ ...request, variant: 'netperf-app' });
    const zip = '/b/images/downloads/netperf-2.7.0.zip';
    expect(plan.steps.map(lineOf)).toEqual([
      '/b/images$ apt-get update',
      `/b/images$ apt-get install -y --no-install-recommends ${OSV_BUILD_PACKAGES.join(' ')}`,
      `/b/images$ git clone --no-checkout ${PINNED_OSV.repository} /b/osv`,
      `/b/osv$ git fetch origin ${PINNED_OSV.commit}`,
      `/b/osv$ git checkout --force --detach ${PINNED_OSV.commit}`,
      '/b/osv$ git update-index --cacheinfo 160000,2347c09a7fb55e6e13474a83339d6f4e26e43c85,apps',
      '/b/osv$ git submodule update --init --force external/x64/acpica musl_0.9.12 musl_1.2.1 kbuild apps',
      expect.stringMatching(
        /^\/b\/osv\$ sh -c test "\$\(git -C apps rev-parse HEAD\)" = "\$0" .* 2347c09a7fb55e6e13474a83339d6f4e26e43c85$/,
      ),
      `/b/images$ sh -c mkdir -p "$(dirname "$0")" && wget -nv -O "$0.partial" "$1" && mv -- "$0.partial" "$0" ${zip} ${PINNED_NETPERF.url}`,
      `check ${zip} under netperf-netperf-2.7.0/ = 9e987c3eafaca58911b1833f36b75b277e7dd3d3cba0c2b0a215334cfb6525a3`,
      'write /b/images/build-tools/wget (755)',
      '/b/osv$ git -C apps clean -ffdxq -- netperf',
      '/b/osv$ ./scripts/build -j2 fs=rofs image=netperf',
      `/b/osv$ cp -- /b/osv/build/last/usr.img /b/images/osv-netperf-app-${plan.key}.img.partial`,
    ]);
    expect(netperfDownloadPath('/b/images')).toBe(zip);
    expect(OSV_SUBMODULES).not.toContain('modules/open_zfs/openzfs');
    const run = runSteps(plan.steps);
    expect(run.find((s) => s.name === 'clone OSv')!.skipIfExists).toBe('/b/osv/.git');
    expect(run.find((s) => s.name.startsWith('download netperf'))!.skipIfExists).toBe(zip);
    expect(plan.image).toBe(`/b/images/osv-netperf-app-${plan.key}.img`);
    expect(plan.metadataFile).toBe(`${plan.image}.virtnet.json`);
    expect(plan.metadata).toMatchObject({
      osvCommit: PINNED_OSV.commit,
      osvVersion: 'v0.57.0-398-g0e34e4dc',
      appsCommit: PINNED_OSV.appsCommit,
      commandLine: '--rootfs=rofs /tools/netserver.so -D -4 -f',
      fs: 'rofs',
      variant: 'netperf-app',
    });
  });

  it('updates the package lists before installing, unless every package is there', () => {
    for (const plan of [
      osvBuildPlan({ ...request, variant: 'netperf-app' }),
      osvBuildPlan({ ...request, variant: 'host-netserver', hostNetserverSha256: 'd'.repeat(64) }),
    ]) {
      const argv = runSteps(plan.steps).map((s) => s.argv.slice(0, 2).join(' '));
      expect(argv.indexOf('apt-get update')).toBe(0);
      expect(argv.indexOf('apt-get install')).toBe(1);
      // Both skipped only when every build package is installed already.
      for (const step of runSteps(plan.steps).slice(0, 2))
        expect(step.skipIfSucceeds?.slice(4)).toEqual([...OSV_BUILD_PACKAGES]);
    }
  });

  it('checks out the requested osv-apps commit in apps/, checks it, records it and keys on it', () => {
    const other = 'a'.repeat(40);
    const pinned = osvBuildPlan({ ...request, variant: 'netperf-app' });
    const plan = osvBuildPlan({ ...request, variant: 'netperf-app', appsCommit: other });
    const lines = plan.steps.map(lineOf);
    const select = lines.indexOf(`/b/osv$ git update-index --cacheinfo 160000,${other},apps`);
    const checkout = lines.indexOf(`/b/osv$ git checkout --force --detach ${PINNED_OSV.commit}`);
    const submodules = lines.findIndex((l) => l.includes('git submodule update --init'));
    const check = lines.findIndex((l) => l.includes('git -C apps rev-parse HEAD'));
    // After the checkout (which resets the index) and before git checks out the submodules.
    expect(checkout).toBeLessThan(select);
    expect(select).toBeLessThan(submodules);
    expect(submodules).toBeLessThan(check);
    expect(lines[check]!.endsWith(` ${other}`)).toBe(true);
    expect(plan.metadata.appsCommit).toBe(other);
    expect(plan.key).not.toBe(pinned.key);
    // The commit OSv itself records is known but not the default: it is not in the public history copied.
    expect(PINNED_OSV.recordedAppsCommit).toBe('b2d53b348c15ee1c1a05b1f23fe4f4702dc9cbef');
    expect(pinned.metadata.appsCommit).not.toBe(PINNED_OSV.recordedAppsCommit);
    expect(() => osvBuildPlan({ ...request, variant: 'netperf-app', appsCommit: '2347c09a' })).toThrow(
      'osv-apps commit: expected a full 40-hex-digit commit, got "2347c09a"',
    );
  });

  it('builds netperf from the pinned, checked source, from a download or a local file, handed to OSv by the wget stand-in', () => {
    const downloaded = osvBuildPlan({ ...request, variant: 'netperf-app' });
    const local = osvBuildPlan({ ...request, variant: 'netperf-app', netperfZip: '/copies/netperf.zip' });
    // No download when a local file is given; the same check either way, before the build.
    const downloads = (steps: BuildStep[]) => runSteps(steps).filter((s) => s.argv.includes(PINNED_NETPERF.url)).length;
    expect(downloads(local.steps)).toBe(0);
    expect(downloads(downloaded.steps)).toBe(1);
    const check = local.steps.find((s) => s.kind === 'check-zip');
    expect(check).toMatchObject({
      file: '/copies/netperf.zip',
      topFolder: 'netperf-netperf-2.7.0/',
      contentSha256: PINNED_NETPERF.contentSha256,
    });
    const build = runSteps(local.steps).find((s) => s.name === 'build OSv with the netperf app')!;
    expect(local.steps.indexOf(check!)).toBeLessThan(local.steps.indexOf(build));
    expect(build.env).toEqual({
      VIRTNET_NETPERF_URL: 'https://codeload.github.com/HewlettPackard/netperf/zip/netperf-2.7.0',
      VIRTNET_NETPERF_ZIP: '/copies/netperf.zip',
    });
    expect(build.pathPrepend).toBe('/b/images/build-tools');
    expect(local.steps.find((s) => s.kind === 'write')).toMatchObject({
      path: '/b/images/build-tools/wget',
      mode: 0o755,
    });
    // The content is the input, not where it came from.
    expect(local.key).toBe(downloaded.key);
    expect(local.inputs.netperf).toEqual({ version: '2.7.0', contentSha256: PINNED_NETPERF.contentSha256 });
    expect(local.metadata.netperfSource).toEqual({
      version: '2.7.0',
      tag: 'netperf-2.7.0',
      commit: PINNED_NETPERF.commit,
      contentSha256: PINNED_NETPERF.contentSha256,
      from: 'local file',
    });
    expect(downloaded.metadata.netperfSource?.from).toBe('download');
    expect(local.metadata.netperf).toContain(PINNED_NETPERF.contentSha256);
    // The host-netserver variant uses no netperf source at all.
    const host = osvBuildPlan({ ...request, variant: 'host-netserver', hostNetserverSha256: 'd'.repeat(64) });
    expect(host.steps.some((s) => s.kind !== 'run' || s.name.includes('netperf app'))).toBe(false);
    expect(host.inputs.netperf).toBeUndefined();
  });

  it('adds the host netserver to an empty image as the alternative', () => {
    const plan = osvBuildPlan({ ...request, variant: 'host-netserver', hostNetserverSha256: 'd'.repeat(64) });
    const argv = runSteps(plan.steps).map((s) => s.argv.join(' '));
    const manifest = 'env PATH=/usr/sbin:/usr/bin:/sbin:/bin ./scripts/manifest_from_host.sh -w netserver';
    expect(argv).toContain(manifest);
    expect(argv).toContain('./scripts/build -j2 fs=rofs image=empty --append-manifest');
    expect(argv).toContain('./scripts/imgedit.py setargs build/last/usr.img --rootfs=rofs /netserver -D -4 -f');
    expect(argv.indexOf(manifest)).toBeLessThan(
      argv.indexOf('./scripts/build -j2 fs=rofs image=empty --append-manifest'),
    );
    expect(plan.metadata.netperf).toContain('d'.repeat(64));
    expect(commandLineFor('host-netserver')).toBe('--rootfs=rofs /netserver -D -4 -f');
  });

  it('keys the cache on its inputs only', () => {
    const a = osvBuildPlan({ ...request, variant: 'netperf-app' });
    expect(osvBuildPlan({ ...request, variant: 'netperf-app', sourceDir: '/elsewhere', jobs: 8 }).key).toBe(a.key);
    expect(osvBuildPlan({ ...request, variant: 'netperf-app', commit: 'f'.repeat(40) }).key).not.toBe(a.key);
    const h1 = osvBuildPlan({ ...request, variant: 'host-netserver', hostNetserverSha256: '1'.repeat(64) });
    const h2 = osvBuildPlan({ ...request, variant: 'host-netserver', hostNetserverSha256: '2'.repeat(64) });
    expect(h1.key).not.toBe(h2.key);
    expect(h1.key).not.toBe(a.key);
  });

  it('refuses bad requests with a clear message', () => {
    expect(() => osvBuildPlan({ ...request, variant: 'zfs' as never })).toThrow(
      'OSv variant: expected one of netperf-app, host-netserver, got "zfs"',
    );
    expect(() => osvBuildPlan({ ...request, variant: 'netperf-app', commit: 'v0.57.0' })).toThrow(
      'OSv commit: expected a full 40-hex-digit commit, got "v0.57.0"',
    );
    expect(() => osvBuildPlan({ ...request, variant: 'netperf-app', jobs: 0 })).toThrow('jobs 0 out of range');
    expect(() => osvBuildPlan({ ...request, variant: 'host-netserver' })).toThrow(
      'the host netserver sha256 is needed',
    );
    expect(() =>
      osvBuildPlan({
        ...request,
        variant: 'host-netserver',
        hostNetserverSha256: 'd'.repeat(64),
        netperfZip: '/x.zip',
      }),
    ).toThrow('a netperf zip is used only by the netperf-app variant');
  });
});

describe('OSv driver inputs', () => {
  it('says why it cannot run without an image', async () => {
    const saved = process.env.VIRTNET_OSV_IMAGE;
    delete process.env.VIRTNET_OSV_IMAGE;
    try {
      expect(osvImageSetting({})).toBeNull();
      expect(await osvEnvironment.available({})).toEqual({ ok: false, reason: NO_IMAGE_REASON });
      expect(NO_IMAGE_REASON).toBe(
        'no OSv image given (set --osv-image or VIRTNET_OSV_IMAGE; build one with scripts/build-osv-image.ts, see env/osv/README.md)',
      );
      expect(await osvEnvironment.available({ osvImage: '/nonexistent/usr.img' })).toEqual({
        ok: false,
        reason: 'the OSv image /nonexistent/usr.img does not exist',
      });
    } finally {
      if (saved !== undefined) process.env.VIRTNET_OSV_IMAGE = saved;
    }
  });

  it('tells qcow2 from raw images and names the metadata sidecar', () => {
    expect(imageFormat(Buffer.from([0x51, 0x46, 0x49, 0xfb, 0, 0, 0, 3]))).toBe('qcow2');
    expect(imageFormat(Buffer.from([0xeb, 0x63, 0x90, 0x00]))).toBe('raw');
    expect(metadataPathFor('/x/usr.img')).toBe('/x/usr.img.virtnet.json');
  });
});
