// The one table of claim kinds. Adding a kind: its file under kinds/ and a line here.

import { compare } from './kinds/compare.ts';
import { converge } from './kinds/converge.ts';
import { equivalent } from './kinds/equivalent.ts';
import { everyPoint } from './kinds/every-point.ts';
import { fades } from './kinds/fades.ts';
import { replicatesAgree } from './kinds/replicates-agree.ts';
import { rise } from './kinds/rise.ts';
import { seriesAlike } from './kinds/series-alike.ts';
import { step } from './kinds/step.ts';
import { unstable } from './kinds/unstable.ts';

export const KINDS = [
  compare,
  everyPoint,
  step,
  rise,
  unstable,
  converge,
  equivalent,
  fades,
  replicatesAgree,
  seriesAlike,
] as const;
