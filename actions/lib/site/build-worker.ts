// A worker thread of the site build (build-jobs.ts doOnWorkers): does its chunk of jobs in order and
// posts each result; on an error it posts the message and stops, and the build redoes that job (and
// the rest of the chunk) in its own thread, where the error is raised as itself.

import { parentPort, workerData } from 'node:worker_threads';
import { localRunner, type Job, type JobContext } from './build-jobs.ts';

const { context, jobs } = workerData as { context: JobContext; jobs: Job[] };
const runner = localRunner(context);
try {
  for (const job of jobs) parentPort!.postMessage({ result: await runner.do(job) });
  parentPort!.postMessage({ end: true });
} catch (e) {
  parentPort!.postMessage({ error: (e as Error).message });
}
