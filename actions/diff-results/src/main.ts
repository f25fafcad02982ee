// diff-results: parse inputs; the comparison itself comes from the diff library (actions/lib/diff.ts),
// which is being written beside this action and is wired in when it lands.

import * as core from '@actions/core';
import { parseDiffResultsInputs, runnerContext } from '../../lib/action-inputs.ts';

export async function run(): Promise<void> {
  try {
    const settings = parseDiffResultsInputs((name) => core.getInput(name), runnerContext(process.env));
    throw new Error(`diff-results: the diff library is not wired into this action yet (asked to compare ${settings.baseline} with ${settings.current})`);
  } catch (error) {
    core.setFailed((error as Error).message);
  }
}
