// Line icons for the pages, drawn as SVG (emoji depend on fonts an agent's
// machine may lack). widget.js draws its own: it cannot import modules.

import { s } from './dom.js';

const PATHS = {
  clip: 'M20 11.5l-8 8a5 5 0 0 1-7-7l8.5-8.5a3.3 3.3 0 0 1 4.7 4.7L9.7 17.2a1.7 1.7 0 0 1-2.4-2.4L15 7',
};

export function icon(name, size = 16) {
  return s('svg', { viewBox: '0 0 24 24', width: size, height: size, 'aria-hidden': 'true', focusable: 'false', class: 'icon' },
    s('path', { d: PATHS[name], fill: 'none', stroke: 'currentColor', 'stroke-width': 2, 'stroke-linecap': 'round', 'stroke-linejoin': 'round' }));
}
