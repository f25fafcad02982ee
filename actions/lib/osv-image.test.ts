import { describe, expect, it } from 'vitest';
import type { BuildOsvImageSettings } from './action-inputs.ts';
import { DEFAULT_OSV_COMMIT, osvBuildPlan, osvCacheKey } from './osv-image.ts';

const settings: BuildOsvImageSettings = { osvCommit: DEFAULT_OSV_COMMIT, app: 'netperf', cacheDir: '/cache', workDir: '/src', jobs: 4, cacheOnly: false };

describe('OSv image build plan', () => {
  it('the cache key changes with every input and only then', () => {
    const key = osvCacheKey(settings);
    expect(osvCacheKey({ ...settings })).toBe(key);
    expect(key).toMatch(/^osv-netperf-0e34e4dc2b27-[0-9a-f]{16}$/);
    expect(osvCacheKey({ ...settings, app: 'host-netserver' })).not.toBe(key);
    expect(osvCacheKey({ ...settings, osvCommit: 'f'.repeat(40) })).not.toBe(key);
  });

  it('fetches exactly the pinned commit and only the submodules the image needs, then builds fs=rofs', () => {
    const plan = osvBuildPlan(settings);
    const commands = plan.steps.map((s) => s.argv.join(' '));
    expect(commands[1]).toMatch(new RegExp(`fetch -q --depth 1 \\S+ ${DEFAULT_OSV_COMMIT}$`));
    expect(commands[3]).toBe('git -C /src submodule update --init --depth 1 -- external/x64/acpica musl_0.9.12 musl_1.2.1 kbuild apps');
    expect(commands.at(-1)).toBe('./scripts/build -j4 fs=rofs image=netperf');
    expect(plan.steps.at(-1)!.cwd).toBe('/src');
    expect(plan.imagePath).toBe(`/cache/${plan.cacheKey}/usr.img`);
    expect(plan.builtImage).toBe('/src/build/last/usr.img');
    expect(plan.commandLine).toBe('--rootfs=rofs /tools/netserver.so -D -4 -f');
    for (const s of plan.steps) expect(s.timeoutMs).toBeGreaterThan(0);
  });

  it('host-netserver puts the host binary into an empty image', () => {
    const plan = osvBuildPlan({ ...settings, app: 'host-netserver' });
    expect(plan.steps.slice(-2).map((s) => s.argv.join(' '))).toEqual(['./scripts/manifest_from_host.sh -w netserver', './scripts/build -j4 fs=rofs image=empty --append-manifest']);
    expect(plan.commandLine).toBe('--rootfs=rofs /netserver -D -4 -f');
  });
});
