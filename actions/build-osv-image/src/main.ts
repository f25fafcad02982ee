// build-osv-image: parse inputs, then env/osv's build plan and build (which reuse the cached image
// when every input is unchanged), set outputs.

import * as core from '@actions/core';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseBuildOsvImageInputs, runnerContext } from '../../lib/action-inputs.ts';
// Only the plan: env/osv/build-image.ts is also a command-line script whose entry guard
// (import.meta.url === argv[1]) would fire inside this bundle.
import { type BuildStep, commandLineFor, type OsvBuildPlan, osvBuildPlan, PINNED_OSV } from '../../../env/osv/build-plan.ts';

function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** One build step, its output in the job log (builds print for minutes). */
function runStep(step: BuildStep): Promise<void> {
  return new Promise((done, fail) => {
    const child = spawn(step.argv[0]!, step.argv.slice(1), { cwd: step.cwd, stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    child.once('error', (e) => fail(new Error(`${step.name}: ${e.message}`)));
    child.once('exit', (code, signal) => (code === 0 ? done() : fail(new Error(`${step.name}: ${step.argv.join(' ')} exited with ${code ?? signal}`))));
  });
}

/** Runs the plan's steps, then records the image's metadata (what makes the cache hit next time). */
async function build(plan: OsvBuildPlan): Promise<void> {
  const t0 = performance.now();
  mkdirSync(dirname(plan.image), { recursive: true });
  for (const [i, step] of plan.steps.entries()) {
    if (step.skipIfExists && existsSync(step.skipIfExists)) {
      core.info(`[${i + 1}/${plan.steps.length}] ${step.name}: already there`);
      continue;
    }
    core.startGroup(`[${i + 1}/${plan.steps.length}] ${step.name}: ${step.argv.join(' ')}`);
    try {
      mkdirSync(step.cwd, { recursive: true });
      await runStep(step);
    } finally {
      core.endGroup();
    }
  }
  renameSync(`${plan.image}.partial`, plan.image);
  const buildSeconds = (performance.now() - t0) / 1000;
  writeFileSync(plan.metadataFile, `${JSON.stringify({ ...plan.metadata, builtAt: new Date().toISOString(), buildSeconds, imageSha256: sha256File(plan.image) }, null, 2)}\n`);
  core.info(`built ${plan.image} in ${buildSeconds.toFixed(0)} s`);
}

export async function run(): Promise<void> {
  try {
    const settings = parseBuildOsvImageInputs((name) => core.getInput(name), runnerContext(process.env), PINNED_OSV.commit);
    const hostNetserver = '/usr/bin/netserver';
    if (settings.variant === 'host-netserver' && !existsSync(hostNetserver)) throw new Error(`input variant: host-netserver needs ${hostNetserver} (install netperf first)`);
    const plan = osvBuildPlan({
      variant: settings.variant,
      sourceDir: settings.workDir,
      outDir: settings.cacheDir,
      jobs: settings.jobs,
      commit: settings.osvCommit,
      hostNetserverSha256: settings.variant === 'host-netserver' ? createHash('sha256').update(readFileSync(hostNetserver)).digest('hex') : undefined,
    });
    const cached = existsSync(plan.image) && existsSync(plan.metadataFile) && (JSON.parse(readFileSync(plan.metadataFile, 'utf8')) as { key?: string }).key === plan.key;
    if (!cached && settings.cacheOnly) throw new Error(`no cached image for key ${plan.key} in ${settings.cacheDir}, and cache-only is true`);
    if (cached) core.info(`cache hit: ${plan.image} (key ${plan.key})`);
    else {
      core.info(`building OSv ${settings.osvCommit} (${settings.variant}) in ${settings.workDir}`);
      await build(plan);
    }
    core.setOutput('image', plan.image);
    core.setOutput('commit', settings.osvCommit);
    core.setOutput('command-line', commandLineFor(settings.variant));
    core.setOutput('cache-key', plan.key);
    core.setOutput('cache-hit', String(cached));
  } catch (error) {
    core.setFailed((error as Error).message);
  }
}
