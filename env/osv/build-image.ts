// Builds an OSv image for netperf from the plan in build-plan.ts, and keeps it in a cache keyed by the plan's inputs: a second call with the same
// inputs returns the cached image at once. Used by scripts/build-osv-image.ts (the command line)
// and by the build-osv-image action.

import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { mustRun, runCommand } from '../../actions/lib/core/proc.ts';
import { assertTrustedPaths, UntrustedPathError } from '../../actions/lib/core/trusted-path.ts';
import type { BuildStep, CheckZipStep, OsvBuildPlan, OsvImageMetadata, RunStep } from './build-plan.ts';
import { contentSha256, filesOutside, readZipFiles } from './zip-content.ts';

export function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** A build step may run for most of an hour on a 2-core machine (OSv's own make); past this it is stuck. */
const STEP_TIMEOUT_MS = 3 * 60 * 60 * 1000;

async function runStep(step: RunStep): Promise<void> {
  const env: NodeJS.ProcessEnv = { ...process.env, DEBIAN_FRONTEND: 'noninteractive', ...step.env };
  if (step.pathPrepend) env.PATH = [step.pathPrepend, process.env.PATH].filter(Boolean).join(delimiter);
  try {
    // Builds print for minutes; their output goes straight to ours so a CI log shows progress.
    await mustRun(step.argv, { cwd: step.cwd, env, timeoutMs: STEP_TIMEOUT_MS, passOutput: true });
  } catch (e) {
    throw new Error(`${step.name}: ${(e as Error).message}`);
  }
}

async function succeeds(argv: string[], cwd: string): Promise<boolean> {
  try {
    return (await runCommand(argv, { cwd: existsSync(cwd) ? cwd : '/', timeoutMs: 60_000 })).exitCode === 0;
  } catch {
    return false; // not installed
  }
}

/** Refuses a zip that does not hold exactly the pinned files, naming it and both hashes. */
export function checkZip(step: CheckZipStep): void {
  if (!existsSync(step.file)) throw new Error(`${step.name}: ${step.file} does not exist`);
  const files = readZipFiles(readFileSync(step.file), step.file);
  const outside = filesOutside(files, step.topFolder);
  if (outside.length > 0)
    throw new Error(
      `${step.name}: ${step.file} has files outside ${step.topFolder}: ${outside.slice(0, 3).join(', ')}`,
    );
  const actual = contentSha256(files);
  if (actual !== step.contentSha256)
    throw new Error(
      `${step.name}: ${step.file} has content sha256 ${actual}, expected ${step.contentSha256} (not the pinned source)`,
    );
}

async function executeStep(step: BuildStep): Promise<void> {
  if (step.kind === 'run') {
    mkdirSync(step.cwd, { recursive: true });
    await runStep(step);
  } else if (step.kind === 'write') {
    mkdirSync(dirname(step.path), { recursive: true });
    writeFileSync(step.path, step.text);
    chmodSync(step.path, step.mode);
  } else {
    checkZip(step);
  }
}

function describeStep(step: BuildStep): string {
  if (step.kind === 'run') return step.argv.join(' ');
  if (step.kind === 'write') return `write ${step.path}`;
  return `content sha256 of ${step.file} = ${step.contentSha256}`;
}

const CACHE_ADVICE =
  'Check who else can write the OSv image cache; delete the entry (or fix its owner and mode) to let the next build replace it.';

/**
 * True when the image and its metadata are there and were built from exactly this plan's inputs.
 * The cache outlives jobs, so an entry is used only if nobody but us (or root) could have written
 * it, and only if the image still has the hash recorded when it was built: otherwise this throws.
 */
export function isCachedOsvImage(plan: OsvBuildPlan): boolean {
  if (!existsSync(plan.image) || !existsSync(plan.metadataFile)) return false;
  assertTrustedPaths([dirname(plan.image), plan.image, plan.metadataFile], 'OSv image cache', CACHE_ADVICE);
  const metadata = JSON.parse(readFileSync(plan.metadataFile, 'utf8')) as OsvImageMetadata;
  if (metadata.key !== plan.key) return false;
  const actual = sha256File(plan.image);
  if (metadata.imageSha256 !== actual)
    throw new UntrustedPathError(
      `OSv image cache: ${plan.image} has sha256 ${actual}, but ${plan.metadataFile} recorded ${metadata.imageSha256 ?? 'none'} when it was built: refusing to use it. ${CACHE_ADVICE}`,
    );
  return true;
}

export async function executeOsvBuild(
  plan: OsvBuildPlan,
  log: (line: string) => void = console.error,
): Promise<{ image: string; cached: boolean; seconds: number }> {
  const t0 = performance.now();
  if (isCachedOsvImage(plan)) {
    log(`osv image: cached ${plan.image} (key ${plan.key})`);
    return { image: plan.image, cached: true, seconds: (performance.now() - t0) / 1000 };
  }
  mkdirSync(join(plan.image, '..'), { recursive: true });
  // A build writes the image where the next job will trust it: not into a directory others can write.
  assertTrustedPaths([dirname(plan.image)], 'OSv image cache', CACHE_ADVICE);
  for (const [i, step] of plan.steps.entries()) {
    if (step.kind === 'run' && step.skipIfExists && existsSync(step.skipIfExists)) {
      log(`[${i + 1}/${plan.steps.length}] ${step.name}: already there`);
      continue;
    }
    if (step.kind === 'run' && step.skipIfSucceeds && (await succeeds(step.skipIfSucceeds, step.cwd))) {
      log(`[${i + 1}/${plan.steps.length}] ${step.name}: already done`);
      continue;
    }
    log(`[${i + 1}/${plan.steps.length}] ${step.name}: ${describeStep(step)}`);
    await executeStep(step);
  }
  renameSync(`${plan.image}.partial`, plan.image);
  const buildSeconds = (performance.now() - t0) / 1000;
  const metadata: OsvImageMetadata = {
    ...plan.metadata,
    builtAt: new Date().toISOString(),
    buildSeconds,
    imageSha256: sha256File(plan.image),
  };
  writeFileSync(plan.metadataFile, `${JSON.stringify(metadata, null, 2)}\n`);
  log(`osv image: built ${plan.image} in ${buildSeconds.toFixed(0)} s`);
  return { image: plan.image, cached: false, seconds: buildSeconds };
}
