#!/usr/bin/env node
// Builds an OSv image for netperf (env/osv/build-plan.ts, cached by its inputs) and prints the
// image path last, for --osv-image / VIRTNET_OSV_IMAGE.
//
//   node scripts/build-osv-image.ts [--variant netperf-app|host-netserver] [--out DIR] [--source DIR]
//                                   [--jobs N] [--commit SHA] [--apps-commit SHA]
//                                   [--netperf-zip FILE] [--dry-run]
//
// It needs the public repositories (or copies of them that git is pointed at with
// url.<copy>.insteadOf) and, unless --netperf-zip names a local copy, the netperf 2.7.0 zip;
// see env/osv/README.md. --dry-run prints the plan without running anything.

import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { runCommand } from '../actions/lib/core/proc.ts';
import { defaultCacheDir } from '../env/kvm/guest-image.ts';
import { executeOsvBuild, sha256File } from '../env/osv/build-image.ts';
import { osvBuildPlan, type OsvVariant } from '../env/osv/build-plan.ts';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      variant: { type: 'string', default: 'netperf-app' },
      out: { type: 'string' },
      source: { type: 'string' },
      jobs: { type: 'string' },
      commit: { type: 'string' },
      'apps-commit': { type: 'string' },
      'netperf-zip': { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
    },
    strict: true,
  });
  const cache = join(defaultCacheDir(), 'osv');
  const variant = values.variant as OsvVariant;
  let hostNetserverSha256: string | undefined;
  if (variant === 'host-netserver') {
    const w = await runCommand(['sh', '-c', 'command -v netserver'], { timeoutMs: 5000 });
    if (w.exitCode !== 0) throw new Error('host-netserver: netserver is not installed on this host');
    hostNetserverSha256 = sha256File(w.stdout.trim());
  }
  const plan = osvBuildPlan({
    variant,
    sourceDir: resolve(values.source ?? join(cache, 'src')),
    outDir: resolve(values.out ?? join(cache, 'images')),
    jobs: values.jobs ? Number(values.jobs) : availableParallelism(),
    commit: values.commit,
    appsCommit: values['apps-commit'],
    netperfZip: values['netperf-zip'] === undefined ? undefined : resolve(values['netperf-zip']),
    hostNetserverSha256,
  });
  if (values['dry-run']) {
    console.log(JSON.stringify(plan, null, 2));
    return 0;
  }
  const result = await executeOsvBuild(plan);
  console.log(result.image);
  return 0;
}

main().then(
  (code) => (process.exitCode = code),
  (e: Error) => {
    console.error(`build-osv-image: ${e.message}`);
    process.exitCode = 1;
  },
);
