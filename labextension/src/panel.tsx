import { ILabShell, JupyterFrontEnd } from '@jupyterlab/application';
import { Clipboard } from '@jupyterlab/apputils';
import { ReactWidget } from '@jupyterlab/ui-components';
import { Message } from '@lumino/messaging';
import { Poll } from '@lumino/polling';
import * as React from 'react';

import { cancelExecution, fetchExecution, fetchJournals, IExecutionSummary, IFilters, IJournal, IPayload } from './api';
import { Detail, IDetailState } from './detail';
import { Filters } from './filters';
import { clock } from './format';
import { polynbIcon } from './icon';
import { IJournalView, JournalSection } from './journal';
import { jumpToCell } from './jump';
import { replayInKernel } from './replay';
import { ExecutionRow } from './rows';
import { OPEN_STATUSES } from './statuses';

const POLL_MS = 2000;
const MAX_BACKOFF_MS = 30000;
const PAGE = 50;

/** A notebook with two sessions (two browser tabs, a kernel started outside this page) shows its journal once. */
function onePerNotebook(journals: IJournal[]): IJournal[] {
  const seen = new Set<string>();
  return journals.filter(journal => !seen.has(journal.notebook) && seen.add(journal.notebook));
}

/**
 * The side panel: per running notebook (the open one first), its platforms, payloads and latest
 * executions, with one execution's detail under its row. It polls the server extension only while it
 * is visible, backing off after errors, and React updates the DOM in place so focus and scroll stay.
 */
export class PolynbPanel extends ReactWidget {
  private journals: IJournal[] = [];
  private filters: IFilters = { scope: '', platform: '', payload: '', status: '' };
  private limit = PAGE;
  private error = '';
  private updatedAt = 0;
  private loaded = false;
  private readonly expanded = new Map<string, boolean>();
  private selected: string | null = null;
  private detail: IDetailState = { replaying: false, copied: false, cancelling: false };
  private readonly poll: Poll;

  constructor(private readonly app: JupyterFrontEnd, private readonly shell: ILabShell) {
    super();
    this.id = 'polynb-panel';
    this.addClass('polynb-panel');
    this.title.icon = polynbIcon;
    this.title.caption = 'polynb: platforms, payloads and executions';
    this.poll = new Poll({
      auto: false,
      factory: () => this.load(),
      frequency: { interval: POLL_MS, backoff: true, max: MAX_BACKOFF_MS },
      name: 'polynb:panel',
      standby: () => !this.isVisible || 'when-hidden'
    });
    shell.currentChanged.connect(this.update, this);
  }

  dispose(): void {
    this.poll.dispose();
    this.shell.currentChanged.disconnect(this.update, this);
    super.dispose();
  }

  protected onAfterAttach(msg: Message): void {
    super.onAfterAttach(msg);
    void this.poll.start();
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    void this.poll.refresh();
  }

  /** One poll: a failure shows in the header and rejects, so the poll backs off until the server answers. */
  private async load(): Promise<void> {
    try {
      this.journals = onePerNotebook(await fetchJournals(this.filters, this.limit));
      this.error = '';
      this.updatedAt = Date.now() / 1000;
      this.loaded = true;
      this.refreshDetailIfChanged();
    } catch (error) {
      this.error = `${error} (retrying)`;
      throw error;
    } finally {
      this.update();
    }
  }

  private changeFilters(filters: IFilters): void {
    this.filters = filters;
    this.limit = PAGE;
    void this.poll.refresh();
    this.update();
  }

  private showMore(): void {
    this.limit += PAGE;
    void this.poll.refresh();
  }

  private isExpanded(id: string, byDefault: boolean): boolean {
    return this.expanded.get(id) ?? byDefault;
  }

  private toggle(id: string, expanded: boolean): void {
    this.expanded.set(id, expanded);
    this.update();
  }

  /** The notebook in the main area, whose section comes first. */
  private openNotebook(): string | undefined {
    const widget = this.shell.currentWidget as { context?: { path?: string } } | null;
    return widget?.context?.path;
  }

  private summaryOf(id: string): { journal: IJournal; record: IExecutionSummary } | undefined {
    for (const journal of this.journals) {
      const record = journal.executions.find(r => r.id === id);
      if (record) {
        return { journal, record };
      }
    }
    return undefined;
  }

  private select(id: string): void {
    if (this.selected === id) {
      this.selected = null;
    } else {
      this.selected = id;
      this.detail = { replaying: false, copied: false, cancelling: false };
      void this.loadDetail(id);
    }
    this.update();
  }

  private async loadDetail(id: string): Promise<void> {
    try {
      const record = await fetchExecution(id);
      if (this.selected === id) {
        this.detail = { ...this.detail, record, error: undefined };
      }
    } catch (error) {
      if (this.selected === id) {
        this.detail = { ...this.detail, error: String(error) };
      }
    }
    this.update();
  }

  /** An open execution's detail is read again at every poll (its output grows while it runs) until it ends;
   * an ended one only when its listed status changes. */
  private refreshDetailIfChanged(): void {
    const shown = this.detail.record;
    if (!this.selected || !shown) {
      return;
    }
    const listed = this.summaryOf(this.selected);
    if (OPEN_STATUSES.includes(shown.status) || (listed && listed.record.status !== shown.status)) {
      void this.loadDetail(this.selected);
    }
  }

  private async replay(journal: IJournal, id: string): Promise<void> {
    this.detail = { ...this.detail, replaying: true, replayed: undefined };
    this.update();
    const replayed = await replayInKernel(this.app.serviceManager, journal, id).catch(error => ({
      ok: false,
      text: `The replay could not reach the kernel: ${error}`
    }));
    if (this.selected === id) {
      this.detail = { ...this.detail, replaying: false, replayed };
    }
    void this.poll.refresh();
  }

  private async cancel(id: string): Promise<void> {
    this.detail = { ...this.detail, cancelling: true, cancelled: undefined };
    this.update();
    const cancelled = await cancelExecution(id).catch(error => ({
      ok: false,
      text: `The cancel request could not reach the server: ${error}`
    }));
    if (this.selected === id) {
      this.detail = { ...this.detail, cancelling: false, cancelled };
    }
    void this.poll.refresh();
  }

  private async copyId(id: string): Promise<void> {
    try {
      await navigator.clipboard.writeText(id);
    } catch {
      Clipboard.copyToSystem(id);
    }
    if (this.selected === id) {
      this.detail = { ...this.detail, copied: true };
      this.update();
    }
  }

  private renderExecutions(journal: IJournal, view: IJournalView): React.ReactNode {
    const payloadOf = (r: IExecutionSummary) =>
      journal.payloads.find(p => p.platform === r.platform && p.name === r.payload);
    return journal.executions.map(record => {
      const selected = record.id === this.selected;
      const payload = payloadOf(record);
      return (
        <ExecutionRow key={record.id} record={record} selected={selected} onSelect={() => this.select(record.id)}>
          {selected && (
            <Detail id={record.id} state={this.detail} actions={{
              cancel: () => void this.cancel(record.id),
              replay: () => void this.replay(journal, record.id),
              copyId: () => void this.copyId(record.id),
              jump: payload?.cell_id ? () => view.jump(journal.notebook, payload) : undefined
            }} />
          )}
        </ExecutionRow>
      );
    });
  }

  protected render(): JSX.Element {
    const open = this.openNotebook();
    const journals = [...this.journals].sort((a, b) => Number(b.notebook === open) - Number(a.notebook === open));
    const view: IJournalView = {
      isExpanded: (id, byDefault) => this.isExpanded(id, byDefault),
      toggle: (id, expanded) => this.toggle(id, expanded),
      jump: (notebook: string, payload: IPayload) => void jumpToCell(this.app, notebook, payload.cell_id),
      showMore: () => this.showMore(),
      now: this.updatedAt || Date.now() / 1000,
      limit: this.limit
    };
    return (
      <>
        <header className="polynb-panel-header">
          <h2>polynb</h2>
          <span className={this.error ? 'polynb-panel-error' : 'polynb-muted polynb-panel-updated'}>
            {this.error || (this.updatedAt ? `updated ${clock(this.updatedAt)}` : 'loading…')}
          </span>
        </header>
        <Filters journals={this.journals} filters={this.filters} onChange={f => this.changeFilters(f)} />
        <div className="polynb-panel-body">
          {this.loaded && journals.length === 0 && (
            <p className="polynb-panel-empty">
              No running notebook uses polynb yet: run <code>%load_ext polynb</code> in one.
            </p>
          )}
          {journals.map((journal, index) => (
            <JournalSection key={journal.notebook} journal={journal} open={journal.notebook === open}
              first={index === 0} view={view} executions={this.renderExecutions(journal, view)} />
          ))}
        </div>
      </>
    );
  }
}
