// build-osv-image: parse inputs, reuse the cached image for these inputs or build it from the
// pinned commit, cache it, set outputs.

import * as core from '@actions/core';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseBuildOsvImageInputs, runnerContext } from '../../lib/action-inputs.ts';
import { DEFAULT_OSV_COMMIT, osvBuildPlan } from '../../lib/osv-image.ts';

/** Runs one build step with its output in the job log; bounded by the step's timeout. */
function runStep(step: { argv: string[]; cwd: string; timeoutMs: number }): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(step.argv[0]!, step.argv.slice(1), { cwd: step.cwd, stdio: ['ignore', 'inherit', 'inherit'] });
    const timer = setTimeout(() => child.kill('SIGKILL'), step.timeoutMs);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`${step.argv.join(' ')}: ${e.message}`));
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`${step.argv.join(' ')} (in ${step.cwd}) failed: ${signal ? `killed by ${signal} (timeout ${step.timeoutMs / 60_000} min?)` : `exit code ${code}`}`));
    });
  });
}

export async function run(): Promise<void> {
  try {
    const settings = parseBuildOsvImageInputs((name) => core.getInput(name), runnerContext(process.env), DEFAULT_OSV_COMMIT);
    const plan = osvBuildPlan(settings);
    const hit = existsSync(plan.imagePath);
    if (hit) {
      core.info(`cache hit: ${plan.imagePath} (key ${plan.cacheKey})`);
    } else {
      if (settings.cacheOnly) throw new Error(`no cached image for key ${plan.cacheKey} in ${settings.cacheDir}, and cache-only is true`);
      core.info(`building OSv ${settings.osvCommit} (${settings.app}) in ${settings.workDir}`);
      for (const step of plan.steps) {
        core.startGroup(step.argv.join(' '));
        try {
          await runStep(step);
        } finally {
          core.endGroup();
        }
      }
      if (!existsSync(plan.builtImage)) throw new Error(`the build finished but left no image at ${plan.builtImage}`);
      mkdirSync(dirname(plan.imagePath), { recursive: true });
      const tmp = `${plan.imagePath}.tmp-${process.pid}`;
      copyFileSync(plan.builtImage, tmp);
      renameSync(tmp, plan.imagePath);
      writeFileSync(plan.metadataPath, `${JSON.stringify({ commit: settings.osvCommit, app: settings.app, cacheKey: plan.cacheKey, commandLine: plan.commandLine, builtAt: new Date().toISOString() }, null, 2)}\n`);
    }
    core.setOutput('image', plan.imagePath);
    core.setOutput('commit', settings.osvCommit);
    core.setOutput('command-line', plan.commandLine);
    core.setOutput('cache-key', plan.cacheKey);
    core.setOutput('cache-hit', String(hit));
  } catch (error) {
    core.setFailed((error as Error).message);
  }
}
