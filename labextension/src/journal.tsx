import { Button } from '@jupyterlab/ui-components';
import * as React from 'react';

import { IJournal, IPayload } from './api';
import { PayloadRow, PlatformRow } from './rows';
import { Section } from './section';

/** What a notebook's section needs from the panel: section state and the actions of its rows. */
export interface IJournalView {
  isExpanded: (id: string, byDefault: boolean) => boolean;
  toggle: (id: string, expanded: boolean) => void;
  jump: (notebook: string, payload: IPayload) => void;
  showMore: () => void;
  now: number;
  limit: number;
}

/**
 * One running notebook: platforms (with their last minute), payloads and executions, each collapsible.
 * `executions` renders the rows (with the detail under the selected one); paging asks for older ones.
 */
export function JournalSection(props: {
  journal: IJournal;
  open: boolean;
  first: boolean;
  view: IJournalView;
  executions: React.ReactNode;
}): JSX.Element {
  const { journal, view } = props;
  const key = journal.notebook;
  const part = (id: string) => ({ id: `${id}:${key}`, expanded: view.isExpanded(`${id}:${key}`, true), onToggle: view.toggle });
  return (
    <Section id={`notebook:${key}`} title={key} summary={props.open ? 'open' : ''}
      expanded={view.isExpanded(`notebook:${key}`, props.first)} onToggle={view.toggle}
      className="polynb-panel-notebook" attributes={{ 'data-notebook': key, 'data-open': String(props.open) }}>
      {journal.error && <p className="polynb-panel-error">{journal.error}</p>}
      {!journal.error && journal.platforms.length + journal.payloads.length === 0 && (
        <p className="polynb-muted">No payload yet: a magic such as <code>%%kgrid_ko</code> registers one.</p>
      )}
      {journal.platforms.length > 0 && (
        <Section {...part('platforms')} title="Platforms" summary={String(journal.platforms.length)}>
          <ul className="polynb-panel-platforms">
            {journal.platforms.map(platform => (
              <PlatformRow key={platform.platform} platform={platform} now={view.now}
                records={journal.executions.filter(r => r.platform === platform.platform)} />
            ))}
          </ul>
        </Section>
      )}
      {journal.payloads.length > 0 && (
        <Section {...part('payloads')} title="Payloads" summary={String(journal.payloads.length)}>
          <ul className="polynb-panel-payloads">
            {journal.payloads.map(payload => (
              <PayloadRow key={`${payload.platform}:${payload.name}`} payload={payload}
                onJump={() => view.jump(key, payload)} />
            ))}
          </ul>
        </Section>
      )}
      {(journal.executions.length > 0 || journal.payloads.length > 0) && (
        <Section {...part('executions')} title="Executions" summary={String(journal.executions.length)}>
          {journal.executions.length === 0 && <p className="polynb-muted">None yet (or none passes the filters).</p>}
          <ul className="polynb-panel-executions">{props.executions}</ul>
          {journal.executions.length >= view.limit && (
            <Button small minimal className="polynb-panel-more" onClick={view.showMore}>
              Show older executions (the newest {view.limit} are listed)
            </Button>
          )}
        </Section>
      )}
    </Section>
  );
}
