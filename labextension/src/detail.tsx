import { Button, copyIcon, LabIcon, launchIcon, refreshIcon, stopIcon } from '@jupyterlab/ui-components';
import * as React from 'react';

import { ICancelResult, IExecution } from './api';
import { clock, duration } from './format';
import { IReplayResult } from './replay';
import { Badge } from './status';
import { OPEN_STATUSES } from './statuses';

/** What the detail pane can do with its record; each answers in the pane itself. */
export interface IDetailActions {
  cancel: () => void;
  replay: () => void;
  copyId: () => void;
  /** Undefined when the payload's cell is unknown (registered outside JupyterLab). */
  jump?: () => void;
}

export interface IDetailState {
  record?: IExecution;
  error?: string;
  replaying: boolean;
  replayed?: IReplayResult;
  copied: boolean;
  cancelling: boolean;
  cancelled?: ICancelResult;
}

function pretty(value: unknown): string {
  return JSON.stringify(value, null, 2) ?? 'null';
}

function Block(props: { title: string; body: string }): JSX.Element {
  return (
    <div className={`polynb-detail-block polynb-detail-${props.title.toLowerCase()}`}>
      <h4>{props.title}</h4>
      <pre>{props.body}</pre>
    </div>
  );
}

function Action(props: { icon: LabIcon; label: string; title: string; onClick?: () => void; name: string }): JSX.Element {
  return (
    <Button minimal small className={`polynb-action-${props.name}`} title={props.title}
      disabled={!props.onClick} onClick={props.onClick}>
      <props.icon.react tag="span" className="polynb-button-icon" />
      <span>{props.label}</span>
    </Button>
  );
}

/** One execution in full, under its row: times, actions (cancel while it runs, replay, copy id, go to cell), then
 * every part it has. */
export function Detail(props: { id: string; state: IDetailState; actions: IDetailActions }): JSX.Element {
  const { record, error, replaying, replayed, copied, cancelling, cancelled } = props.state;
  const open = record !== undefined && OPEN_STATUSES.includes(record.status);
  const body = record ? (
    <>
      <div className="polynb-detail-times">
        received {clock(record.received_at)} · started {clock(record.started_at)} · finished{' '}
        {clock(record.finished_at)} · {duration(record.duration)}
      </div>
      <div className="polynb-detail-id">id <code>{record.id}</code></div>
      {[
        ['Input', pretty(record.input)],
        ['Output', pretty(record.output)],
        ['Stdout', record.stdout],
        ['Stderr', record.stderr],
        ['Logs', record.logs.map(l => `[${l.level}] ${l.logger}: ${l.message}`).join('\n')],
        ['Error', record.error ?? ''],
        ['Traceback', record.traceback ?? '']
      ]
        .filter(([title, text]) => text || title === 'Input' || title === 'Output')
        .map(([title, text]) => <Block key={title} title={title} body={text} />)}
    </>
  ) : (
    <div className={error ? 'polynb-panel-error' : 'polynb-muted'}>{error ?? 'Loading…'}</div>
  );
  return (
    <div className="polynb-panel-detail" data-execution-id={props.id}>
      <div className="polynb-detail-actions">
        {open && (
          <Action name="cancel" icon={stopIcon} label={cancelling ? 'Cancelling…' : 'Cancel'}
            title="Stop this execution in the kernel that runs it: its record ends cancelled"
            onClick={cancelling || cancelled?.ok ? undefined : props.actions.cancel} />
        )}
        <Action name="replay" icon={refreshIcon} label={replaying ? 'Replaying…' : 'Replay'}
          title="Run this input again against the payload as the notebook defines it now (in its kernel)"
          onClick={replaying ? undefined : props.actions.replay} />
        <Action name="copy" icon={copyIcon} label={copied ? 'Copied' : 'Copy id'}
          title="Copy this execution's id" onClick={props.actions.copyId} />
        <Action name="jump" icon={launchIcon} label="Go to cell" title="Open the cell that defines the payload"
          onClick={props.actions.jump} />
      </div>
      {cancelled && (
        <div className={`polynb-detail-cancel${cancelled.ok ? '' : ' polynb-panel-error'}`} data-ok={String(cancelled.ok)}>
          {cancelled.text}
        </div>
      )}
      {replayed && (
        <div className="polynb-detail-replay" data-ok={String(replayed.ok)}>
          <h4>
            Replay <Badge word={replayed.ok ? 'succeeded' : 'failed'} />
          </h4>
          <pre>{replayed.text}</pre>
        </div>
      )}
      {record && error && <div className="polynb-panel-error">{error}</div>}
      {body}
    </div>
  );
}
