// start-environment's post step: stop the serve process (which tears the environment down).
// Only ever warns: a post step that fails would hide the job's real outcome.

import * as core from '@actions/core';
import { stopServe } from '../../lib/measure/serve-process.ts';
import { STATE_PID } from './main.ts';

export async function runPost(): Promise<void> {
  try {
    const pid = Number(core.getState(STATE_PID));
    if (!Number.isSafeInteger(pid) || pid <= 0) {
      core.info('no environment was started: nothing to tear down');
      return;
    }
    const outcome = await stopServe(pid, 120_000);
    if (outcome.kind === 'not-running') core.info(`virtnet serve (PID ${pid}) had already ended`);
    else if (outcome.kind === 'stopped') core.info(`environment torn down in ${outcome.seconds.toFixed(1)} s`);
    else core.warning(`virtnet serve (PID ${pid}) did not end within 120 s and was killed; run \`virtnet cleanup\` on this runner to remove what it left`);
  } catch (error) {
    core.warning(`tearing the environment down failed: ${(error as Error).message}; run \`virtnet cleanup\` on this runner`);
  }
}
