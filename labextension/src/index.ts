import { ILabShell, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';

import { PolynbPanel } from './panel';

/** Adds the polynb side panel to JupyterLab's left area. */
const plugin: JupyterFrontEndPlugin<void> = {
  id: 'polynb:panel',
  description: 'Platforms, payloads and live executions of the notebooks that use polynb.',
  autoStart: true,
  requires: [ILabShell],
  activate: (app: JupyterFrontEnd, shell: ILabShell) => {
    shell.add(new PolynbPanel(app, shell), 'left', { rank: 900 });
  }
};

export default plugin;
