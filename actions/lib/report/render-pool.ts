// SVG rendering on worker threads: a site of many runs renders hundreds of charts, each a few
// tens of milliseconds of single-threaded vega work. The output is the same as renderSvg's (ids
// are renumbered per SVG), so where a chart was rendered never shows in the files.

import { Worker } from 'node:worker_threads';
import type { TopLevelSpec } from 'vega-lite';
import { renderSvg } from './render.ts';

export interface RenderPool {
  render(spec: TopLevelSpec): Promise<string>;
  close(): Promise<void>;
}

export function createRenderPool(size: number): RenderPool {
  const workers: Worker[] = [];
  const load: number[] = [];
  const pending = new Map<
    number,
    { resolve: (svg: string) => void; reject: (e: Error) => void; worker: number; spec: TopLevelSpec }
  >();
  let nextId = 0;
  let failed: Error | null = null;
  for (let i = 0; i < size; i++) {
    const w = new Worker(new URL('./render-worker.ts', import.meta.url));
    w.on('message', (m: { id: number; svg?: string; error?: string }) => {
      const p = pending.get(m.id);
      if (!p) return;
      pending.delete(m.id);
      load[p.worker]!--;
      if (m.error !== undefined) p.reject(new Error(`rendering a chart failed: ${m.error}`));
      else p.resolve(m.svg!);
    });
    // A worker that cannot start (e.g. a bundled build without the worker file) or dies: its
    // charts, and every later one, are drawn in this thread instead. Same bytes either way.
    w.on('error', (e) => {
      failed = e;
      for (const [id, p] of pending) {
        if (p.worker !== i) continue;
        pending.delete(id);
        renderSvg(p.spec).then(p.resolve, p.reject);
      }
    });
    workers.push(w);
    load.push(0);
  }
  return {
    render(spec) {
      if (failed) return renderSvg(spec);
      const worker = load.indexOf(Math.min(...load));
      const id = nextId++;
      load[worker]!++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject, worker, spec });
        workers[worker]!.postMessage({ id, spec });
      });
    },
    async close() {
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}
