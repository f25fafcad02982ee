// A worker thread that renders Vega-Lite specs to SVG for the render pool (render-pool.ts).

import { parentPort } from 'node:worker_threads';
import type { TopLevelSpec } from 'vega-lite';
import { renderSvg } from './render.ts';

parentPort!.on('message', async (message: { id: number; spec: TopLevelSpec }) => {
  try {
    parentPort!.postMessage({ id: message.id, svg: await renderSvg(message.spec) });
  } catch (e) {
    parentPort!.postMessage({ id: message.id, error: (e as Error).message });
  }
});
