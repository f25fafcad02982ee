// start-environment's post step: stop the serve process (which tears the environment down).
// Only ever warns: a post step that fails would hide the job's real outcome.

import { type ActionIO, actionsCore } from '../../lib/action/io.ts';
import { stopServe } from './serve-process.ts';
import { STATE_PID, STATE_START_TICKS } from './main.ts';

export async function runPost(io: ActionIO = actionsCore(), stop: typeof stopServe = stopServe): Promise<void> {
  try {
    const pid = Number(io.getState(STATE_PID));
    if (!Number.isSafeInteger(pid) || pid <= 0) {
      io.info('no environment was started: nothing to tear down');
      return;
    }
    const startTicks = io.getState(STATE_START_TICKS);
    const outcome = await stop(startTicks ? { pid, startTicks } : pid, 120_000);
    if (outcome.kind === 'not-running') io.info(`virtnet serve (PID ${pid}) had already ended`);
    else if (outcome.kind === 'stopped') io.info(`environment torn down in ${outcome.seconds.toFixed(1)} s`);
    else
      io.warning(
        `virtnet serve (PID ${pid}) did not end within 120 s and was killed; run \`virtnet cleanup\` on this runner to remove what it left`,
      );
  } catch (error) {
    io.warning(
      `tearing the environment down failed: ${(error as Error).message}; run \`virtnet cleanup\` on this runner`,
    );
  }
}
