import { JupyterFrontEnd } from '@jupyterlab/application';
import { Widget } from '@lumino/widgets';

import { fetchExecution, fetchJournals, IFilters, IJournal, IPayload } from './api';
import { detail, el, executionRow, payloadRow, platformRow } from './render';

const POLL_MS = 2000;

/** The part of a notebook panel the jump needs (typed here to keep @jupyterlab/notebook out of the build). */
interface INotebookLike {
  context: { ready: Promise<void> };
  content: {
    widgets: readonly { model: { id: string } }[];
    activeCellIndex: number;
    scrollToItem(index: number): Promise<void>;
  };
}
const STATUSES = ['received', 'running', 'succeeded', 'failed', 'interrupted'];
const ALL: Record<keyof IFilters, string> = { platform: 'all platforms', payload: 'all payloads', status: 'all statuses' };

/**
 * The side panel: per running notebook, its platforms, its payloads (click to reach the defining cell)
 * and a live list of executions (filter, click for the detail). It polls the server extension.
 */
export class PolynbPanel extends Widget {
  private filters: IFilters = { platform: '', payload: '', status: '' };
  private selected: string | null = null;
  private timer: number | undefined;
  private readonly filterBar = el('div', 'polynb-panel-filters');
  private readonly body = el('div', 'polynb-panel-body');
  private readonly detailPane = el('div', 'polynb-panel-detail-holder');
  private readonly errorLine = el('div', 'polynb-panel-error');

  constructor(private readonly app: JupyterFrontEnd) {
    super();
    this.id = 'polynb-panel';
    this.addClass('polynb-panel');
    this.title.caption = 'polynb';
    this.title.label = 'polynb';
    this.node.append(el('h2', '', 'polynb'), this.filterBar, this.errorLine, this.body, this.detailPane);
  }

  protected onAfterAttach(): void {
    void this.refresh();
    this.timer = window.setInterval(() => void this.refresh(), POLL_MS);
  }

  protected onBeforeDetach(): void {
    window.clearInterval(this.timer);
  }

  /** Fetch the journals and redraw; a failed poll shows its error and the next one tries again. */
  async refresh(): Promise<void> {
    try {
      const journals = await fetchJournals(this.filters);
      this.errorLine.textContent = '';
      this.renderFilters(journals);
      this.renderJournals(journals);
    } catch (error) {
      this.errorLine.textContent = String(error);
    }
  }

  private renderFilters(journals: IJournal[]): void {
    const platforms = new Set<string>();
    const payloads = new Set<string>();
    for (const journal of journals) {
      journal.payloads.forEach(p => {
        platforms.add(p.platform);
        payloads.add(p.name);
      });
    }
    this.filterBar.replaceChildren(
      this.select('platform', [...platforms]),
      this.select('payload', [...payloads]),
      this.select('status', STATUSES)
    );
  }

  private select(key: keyof IFilters, choices: string[]): HTMLSelectElement {
    const select = el('select', `polynb-panel-filter-${key}`) as HTMLSelectElement;
    for (const choice of ['', ...choices.sort()]) {
      const option = el('option', '', choice || ALL[key]) as HTMLOptionElement;
      option.value = choice;
      option.selected = choice === this.filters[key];
      select.append(option);
    }
    select.addEventListener('change', () => {
      this.filters = { ...this.filters, [key]: select.value };
      void this.refresh();
    });
    return select;
  }

  private renderJournals(journals: IJournal[]): void {
    if (journals.length === 0) {
      this.body.replaceChildren(el('p', 'polynb-panel-empty', 'No running notebook uses polynb yet.'));
      return;
    }
    this.body.replaceChildren(...journals.map(journal => this.journalSection(journal)));
  }

  private journalSection(journal: IJournal): HTMLElement {
    const part = el('section', 'polynb-panel-notebook');
    part.dataset.notebook = journal.notebook;
    const platforms = el('ul', 'polynb-panel-platforms');
    platforms.append(...journal.platforms.map(platformRow));
    const payloads = el('ul', 'polynb-panel-payloads');
    payloads.append(...journal.payloads.map(p => payloadRow(p, () => void this.jumpToCell(journal.notebook, p))));
    const executions = el('ul', 'polynb-panel-executions');
    executions.append(...journal.executions.map(record =>
      executionRow(record, record.id === this.selected, () => void this.select_execution(record.id))));
    part.append(el('h3', '', journal.notebook), platforms, payloads, executions);
    return part;
  }

  private async select_execution(id: string): Promise<void> {
    this.selected = id;
    try {
      this.detailPane.replaceChildren(detail(await fetchExecution(id)));
    } catch (error) {
      this.detailPane.replaceChildren(el('div', 'polynb-panel-error', String(error)));
    }
    void this.refresh();
  }

  /** Open the notebook and make the cell that registered the payload the active, visible one. */
  private async jumpToCell(path: string, payload: IPayload): Promise<void> {
    const widget = (await this.app.commands.execute('docmanager:open', { path })) as INotebookLike | undefined;
    if (!widget?.content?.widgets || !payload.cell_id) {
      return;
    }
    await widget.context.ready;
    const notebook = widget.content;
    const index = notebook.widgets.findIndex(cell => cell.model.id === payload.cell_id);
    if (index >= 0) {
      notebook.activeCellIndex = index;
      void notebook.scrollToItem(index);
    }
  }
}
