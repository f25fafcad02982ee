#!/usr/bin/env node
// Builds an OSv image for netperf on a runner with internet access, from the plan in
// build-plan.ts, and keeps it in a cache keyed by the plan's inputs: a second call with the same
// inputs returns the cached image at once. Prints the image path last (for VIRTNET_OSV_IMAGE).
//
//   node env/osv/build-image.ts [--variant netperf-app|host-netserver] [--out DIR] [--source DIR]
//                               [--jobs N] [--commit SHA --apps-commit SHA] [--dry-run]
//
// Here (no internet) only --dry-run is useful: it prints the commands without running any.

import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { runCommand } from '../../actions/lib/proc.ts';
import { defaultCacheDir } from '../kvm/guest-image.ts';
import { type BuildStep, type OsvBuildPlan, osvBuildPlan, type OsvImageMetadata, type OsvVariant } from './build-plan.ts';

function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

function runStep(step: BuildStep): Promise<void> {
  return new Promise((done, fail) => {
    const [file, ...args] = step.argv;
    // Builds print for minutes; their output goes straight to ours so a CI log shows progress.
    const child = spawn(file!, args, { cwd: step.cwd, stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    child.once('error', (e) => fail(new Error(`${step.name}: ${e.message}`)));
    child.once('exit', (code, signal) => (code === 0 ? done() : fail(new Error(`${step.name}: ${step.argv.join(' ')} exited with ${code ?? signal}`))));
  });
}

export async function executeOsvBuild(plan: OsvBuildPlan, log: (line: string) => void = console.error): Promise<{ image: string; cached: boolean; seconds: number }> {
  const t0 = performance.now();
  if (existsSync(plan.image) && existsSync(plan.metadataFile)) {
    const meta = JSON.parse(readFileSync(plan.metadataFile, 'utf8')) as OsvImageMetadata;
    if (meta.key === plan.key) {
      log(`osv image: cached ${plan.image} (key ${plan.key})`);
      return { image: plan.image, cached: true, seconds: (performance.now() - t0) / 1000 };
    }
  }
  mkdirSync(join(plan.image, '..'), { recursive: true });
  for (const [i, step] of plan.steps.entries()) {
    if (step.skipIfExists && existsSync(step.skipIfExists)) {
      log(`[${i + 1}/${plan.steps.length}] ${step.name}: already there`);
      continue;
    }
    log(`[${i + 1}/${plan.steps.length}] ${step.name}: ${step.argv.join(' ')}`);
    mkdirSync(step.cwd, { recursive: true });
    await runStep(step);
  }
  renameSync(`${plan.image}.partial`, plan.image);
  const buildSeconds = (performance.now() - t0) / 1000;
  const metadata: OsvImageMetadata = { ...plan.metadata, builtAt: new Date().toISOString(), buildSeconds, imageSha256: sha256File(plan.image) };
  writeFileSync(plan.metadataFile, `${JSON.stringify(metadata, null, 2)}\n`);
  log(`osv image: built ${plan.image} in ${buildSeconds.toFixed(0)} s`);
  return { image: plan.image, cached: false, seconds: buildSeconds };
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      variant: { type: 'string', default: 'netperf-app' },
      out: { type: 'string' },
      source: { type: 'string' },
      jobs: { type: 'string' },
      commit: { type: 'string' },
      'apps-commit': { type: 'string' },
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

if (import.meta.url === `file://${process.argv[1]}`) {
  main().then(
    (code) => (process.exitCode = code),
    (e: Error) => {
      console.error(`build-osv-image: ${e.message}`);
      process.exitCode = 1;
    },
  );
}
