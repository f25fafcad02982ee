// build-osv-image: parse inputs, then env/osv's build plan and build (which reuse the cached image
// when every input is unchanged), set outputs.

import { type ActionIO, actionsCore } from '../../lib/action/io.ts';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { parseBuildOsvImageInputs, runnerContext } from '../../lib/action/inputs.ts';
import { executeOsvBuild, isCachedOsvImage } from '../../../env/osv/build-image.ts';
import { commandLineFor, osvBuildPlan, PINNED_OSV } from '../../../env/osv/build-plan.ts';

export async function run(io: ActionIO = actionsCore()): Promise<void> {
  try {
    const settings = parseBuildOsvImageInputs(io.input, runnerContext(io.env), PINNED_OSV.commit);
    const hostNetserver = '/usr/bin/netserver';
    if (settings.variant === 'host-netserver' && !existsSync(hostNetserver))
      throw new Error(`input variant: host-netserver needs ${hostNetserver} (install netperf first)`);
    const plan = osvBuildPlan({
      variant: settings.variant,
      sourceDir: settings.workDir,
      outDir: settings.cacheDir,
      jobs: settings.jobs,
      commit: settings.osvCommit,
      hostNetserverSha256:
        settings.variant === 'host-netserver'
          ? createHash('sha256').update(readFileSync(hostNetserver)).digest('hex')
          : undefined,
    });
    const cached = isCachedOsvImage(plan);
    if (!cached && settings.cacheOnly)
      throw new Error(`no cached image for key ${plan.key} in ${settings.cacheDir}, and cache-only is true`);
    if (!cached) io.info(`building OSv ${settings.osvCommit} (${settings.variant}) in ${settings.workDir}`);
    await executeOsvBuild(plan, (line) => io.info(line));
    io.setOutput('image', plan.image);
    io.setOutput('commit', settings.osvCommit);
    io.setOutput('command-line', commandLineFor(settings.variant));
    io.setOutput('cache-key', plan.key);
    io.setOutput('cache-hit', String(cached));
  } catch (error) {
    io.setFailed((error as Error).message);
  }
}
