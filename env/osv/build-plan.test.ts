// The OSv image build plan, as data: pinned commit, submodules, packages, commands, cache key.

import { describe, expect, it } from 'vitest';
import { commandLineFor, metadataPathFor, OSV_BUILD_PACKAGES, OSV_SUBMODULES, osvBuildPlan, PINNED_OSV } from './build-plan.ts';
import { imageFormat, NO_IMAGE_REASON, osvEnvironment, osvImageSetting } from './osv.ts';

const request = { sourceDir: '/b/osv', outDir: '/b/images', jobs: 2 };

describe('OSv build plan', () => {
  it('builds the netperf app from the pinned commit, rofs, with only the submodules it needs', () => {
    const plan = osvBuildPlan({ ...request, variant: 'netperf-app' });
    const lines = plan.steps.map((s) => `${s.cwd}$ ${s.argv.join(' ')}`);
    expect(lines).toEqual([
      `/b/images$ apt-get install -y --no-install-recommends ${OSV_BUILD_PACKAGES.join(' ')}`,
      `/b/images$ git clone --no-checkout ${PINNED_OSV.repository} /b/osv`,
      `/b/osv$ git fetch origin ${PINNED_OSV.commit}`,
      `/b/osv$ git checkout --force --detach ${PINNED_OSV.commit}`,
      '/b/osv$ git submodule update --init --force external/x64/acpica musl_0.9.12 musl_1.2.1 kbuild apps',
      expect.stringMatching(/^\/b\/osv\$ sh -c test "\$\(git -C apps rev-parse HEAD\)" = "\$0" .* b2d53b348c15ee1c1a05b1f23fe4f4702dc9cbef$/),
      '/b/osv$ ./scripts/build -j2 fs=rofs image=netperf',
      `/b/osv$ cp -- /b/osv/build/last/usr.img /b/images/osv-netperf-app-${plan.key}.img.partial`,
    ]);
    expect(OSV_SUBMODULES).not.toContain('modules/open_zfs/openzfs');
    expect(plan.steps[1]!.skipIfExists).toBe('/b/osv/.git');
    expect(plan.image).toBe(`/b/images/osv-netperf-app-${plan.key}.img`);
    expect(plan.metadataFile).toBe(`${plan.image}.virtnet.json`);
    expect(plan.metadata).toMatchObject({ osvCommit: PINNED_OSV.commit, osvVersion: 'v0.57.0-398-g0e34e4dc', appsCommit: PINNED_OSV.appsCommit, commandLine: '--rootfs=rofs /tools/netserver.so -D -4 -f', fs: 'rofs', variant: 'netperf-app' });
  });

  it('adds the host netserver to an empty image as the alternative', () => {
    const plan = osvBuildPlan({ ...request, variant: 'host-netserver', hostNetserverSha256: 'd'.repeat(64) });
    const argv = plan.steps.map((s) => s.argv.join(' '));
    const manifest = 'env PATH=/usr/sbin:/usr/bin:/sbin:/bin ./scripts/manifest_from_host.sh -w netserver';
    expect(argv).toContain(manifest);
    expect(argv).toContain('./scripts/build -j2 fs=rofs image=empty --append-manifest');
    expect(argv).toContain('./scripts/imgedit.py setargs build/last/usr.img --rootfs=rofs /netserver -D -4 -f');
    expect(argv.indexOf(manifest)).toBeLessThan(argv.indexOf('./scripts/build -j2 fs=rofs image=empty --append-manifest'));
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
    expect(() => osvBuildPlan({ ...request, variant: 'zfs' as never })).toThrow('OSv variant: expected one of netperf-app, host-netserver, got "zfs"');
    expect(() => osvBuildPlan({ ...request, variant: 'netperf-app', commit: 'v0.57.0' })).toThrow('OSv commit: expected a full 40-hex-digit commit, got "v0.57.0"');
    expect(() => osvBuildPlan({ ...request, variant: 'netperf-app', jobs: 0 })).toThrow('jobs 0 out of range');
    expect(() => osvBuildPlan({ ...request, variant: 'host-netserver' })).toThrow('the host netserver sha256 is needed');
  });
});

describe('OSv driver inputs', () => {
  it('says why it cannot run without an image', async () => {
    const saved = process.env.VIRTNET_OSV_IMAGE;
    delete process.env.VIRTNET_OSV_IMAGE;
    try {
      expect(osvImageSetting({})).toBeNull();
      expect(await osvEnvironment.available({})).toEqual({ ok: false, reason: NO_IMAGE_REASON });
      expect(NO_IMAGE_REASON).toBe('no OSv image given (set --osv-image or VIRTNET_OSV_IMAGE; OSv cannot be built on machines without internet access)');
      expect(await osvEnvironment.available({ osvImage: '/nonexistent/usr.img' })).toEqual({ ok: false, reason: 'the OSv image /nonexistent/usr.img does not exist' });
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
