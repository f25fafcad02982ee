// The site's own stylesheet and script are real files beside this module (assets/site.css, and
// assets/site.js, type-checked by tsc through its `// @ts-check`), read when a site is built. In an
// action's bundle this module's URL is the bundle's (dist/index.js), so scripts/build-actions.ts
// copies assets/ to dist/assets/ for every bundle that includes this module: the same line finds
// the files in both places.

import { readFileSync } from 'node:fs';

export const SITE_ASSET_NAMES = ['site.css', 'site.js'] as const;
export type SiteAssetName = (typeof SITE_ASSET_NAMES)[number];

const ASSETS_DIR = new URL('./assets/', import.meta.url);

export function siteAsset(name: SiteAssetName): Buffer {
  try {
    return readFileSync(new URL(name, ASSETS_DIR));
  } catch (e) {
    throw new Error(
      `the site's ${name} is missing from ${ASSETS_DIR.pathname} (${(e as Error).message}): in an action, rebuild its dist with npm run build:actions`,
    );
  }
}
