import { LabIcon } from '@jupyterlab/ui-components';

/**
 * polynb's mark: one notebook cell (the hub) wired to five platforms. The `jp-icon3` class lets the
 * theme colour it like JupyterLab's own icons in light and dark themes.
 */
const svgstr = `<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">
  <g class="jp-icon3" stroke="#616161" stroke-width="1.6" fill="none">
    <path d="M12 12 12 4.5M12 12 19.2 9.7M12 12 16.5 18.2M12 12 7.5 18.2M12 12 4.8 9.7"/>
  </g>
  <g class="jp-icon3" fill="#616161">
    <rect x="8.6" y="8.6" width="6.8" height="6.8" rx="1.6"/>
    <circle cx="12" cy="3.4" r="2.2"/>
    <circle cx="20.3" cy="9.4" r="2.2"/>
    <circle cx="17.2" cy="19.2" r="2.2"/>
    <circle cx="6.8" cy="19.2" r="2.2"/>
    <circle cx="3.7" cy="9.4" r="2.2"/>
  </g>
</svg>`;

export const polynbIcon = new LabIcon({ name: 'polynb:panel', svgstr });
