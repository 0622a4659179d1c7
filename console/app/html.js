// @ts-check
// Views are htm tagged templates over Preact: no JSX, so no build step.
import { h } from '../vendor/preact.js';
import htm from '../vendor/htm.js';

export const html = htm.bind(h);
