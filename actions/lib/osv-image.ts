// Building the OSv netserver image on a runner with internet: the pinned OSv commit, the recipe
// (which submodules, which build command), and a cache keyed by every input, so the image is
// rebuilt only when one of them changes. The plan is pure; running it is the action's edge.
// env/osv (the environment) boots the image; this module only makes it.

import { createHash } from 'node:crypto';
import type { BuildOsvImageSettings } from './action-inputs.ts';

/** OSv's public source; the commit is what makes the image reproducible. */
export const OSV_SOURCE = 'https://github.com/cloudius-systems/osv.git';
/** The OSv commit pinned by default (master of 2026-08-17); recorded with every image. */
export const DEFAULT_OSV_COMMIT = '0e34e4dc2b278b7f64e4169abbf297b7de46fb6b';
/** Bump when the steps below change: it is part of the cache key. */
export const RECIPE_VERSION = 1;

/** Only the submodules the netperf image needs: `--recursive` would pull OpenZFS. */
export const OSV_SUBMODULES = ['external/x64/acpica', 'musl_0.9.12', 'musl_1.2.1', 'kbuild', 'apps'];

export interface OsvBuildPlan {
  cacheKey: string;
  /** Where the image is (or will be) cached. */
  imagePath: string;
  metadataPath: string;
  /** OSv's command line inside the image: what the driver passes, recorded with the image. */
  commandLine: string;
  /** Commands run in order in workDir (the first ones create it). */
  steps: { argv: string[]; cwd: string; timeoutMs: number }[];
  /** What the build leaves behind to copy into the cache. */
  builtImage: string;
}

export function osvCacheKey(settings: Pick<BuildOsvImageSettings, 'osvCommit' | 'app'>): string {
  const inputs = JSON.stringify({ commit: settings.osvCommit, app: settings.app, recipe: RECIPE_VERSION, submodules: OSV_SUBMODULES });
  return `osv-${settings.app}-${settings.osvCommit.slice(0, 12)}-${createHash('sha256').update(inputs).digest('hex').slice(0, 16)}`;
}

export function osvBuildPlan(settings: BuildOsvImageSettings): OsvBuildPlan {
  const key = osvCacheKey(settings);
  const dir = `${settings.cacheDir}/${key}`;
  const src = settings.workDir;
  const minutes = (m: number) => m * 60_000;
  const fetch = [
    { argv: ['git', 'init', '-q', src], cwd: '/', timeoutMs: minutes(1) },
    { argv: ['git', '-C', src, 'fetch', '-q', '--depth', '1', OSV_SOURCE, settings.osvCommit], cwd: '/', timeoutMs: minutes(10) },
    { argv: ['git', '-C', src, 'checkout', '-q', '--force', 'FETCH_HEAD'], cwd: '/', timeoutMs: minutes(2) },
    { argv: ['git', '-C', src, 'submodule', 'update', '--init', '--depth', '1', '--', ...OSV_SUBMODULES], cwd: '/', timeoutMs: minutes(15) },
  ];
  // fs=rofs: the default ZFS image boots OSv under KVM during the build, which TCG-only runners cannot.
  const build =
    settings.app === 'netperf'
      ? [{ argv: ['./scripts/build', `-j${settings.jobs}`, 'fs=rofs', 'image=netperf'], cwd: src, timeoutMs: minutes(90) }]
      : [
          { argv: ['./scripts/manifest_from_host.sh', '-w', 'netserver'], cwd: src, timeoutMs: minutes(5) },
          { argv: ['./scripts/build', `-j${settings.jobs}`, 'fs=rofs', 'image=empty', '--append-manifest'], cwd: src, timeoutMs: minutes(90) },
        ];
  return {
    cacheKey: key,
    imagePath: `${dir}/usr.img`,
    metadataPath: `${dir}/image.json`,
    commandLine: settings.app === 'netperf' ? '--rootfs=rofs /tools/netserver.so -D -4 -f' : '--rootfs=rofs /netserver -D -4 -f',
    steps: [...fetch, ...build],
    builtImage: `${src}/build/last/usr.img`,
  };
}
