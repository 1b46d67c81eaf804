import * as React from 'react';

import { IExecutionSummary, IPayload, IPlatform, ISignature } from './api';
import { clock, duration, plural } from './format';
import { Sparkline } from './sparkline';
import { Badge } from './status';

function firstLine(text: string): string {
  return text.trim().split('\n')[0];
}

/** A platform: its state, its last minute and where it listens; the detail (an error) on its own line. */
export function PlatformRow(props: {
  platform: IPlatform;
  records: readonly IExecutionSummary[];
  now: number;
}): JSX.Element {
  const { platform } = props;
  return (
    <li className="polynb-panel-platform" data-state={platform.state} data-platform={platform.platform}>
      <span className="polynb-row-line">
        <span className="polynb-panel-name">{platform.platform}</span>
        <Badge word={platform.state} />
        <Sparkline platform={platform.platform} records={props.records} now={props.now} />
      </span>
      {platform.address && <span className="polynb-panel-address">{platform.address}</span>}
      {platform.detail && <span className="polynb-panel-platform-detail">{firstLine(platform.detail)}</span>}
    </li>
  );
}

/** A payload's operations, one line each (`greet({name: string}) -> string`); the tooltip says where they come from. */
function Signature(props: { signature: ISignature }): JSX.Element {
  return (
    <span className="polynb-panel-signature" title={`signature from ${props.signature.source}`}>
      {Object.entries(props.signature.operations).map(([name, operation]) => (
        <code key={name} className="polynb-panel-operation">{operation.summary}</code>
      ))}
    </span>
  );
}

/** A payload (with its signature, where its platform has one); clicking it makes the cell that defines it the
 * active cell. */
export function PayloadRow(props: { payload: IPayload; onJump: () => void }): JSX.Element {
  const { payload } = props;
  return (
    <li className="polynb-panel-payload" data-platform={payload.platform} data-payload={payload.name}
      data-executions={payload.executions}>
      <button className="polynb-row-button" onClick={props.onJump}
        title={payload.cell_id ? 'Go to the cell that defines it' : 'Its cell id is unknown (registered outside JupyterLab)'}>
        <span className="polynb-panel-name">{payload.platform} · {payload.name}</span>
        <span className="polynb-row-line polynb-muted">
          <span className="polynb-panel-version">v{payload.version}</span>
          <span className="polynb-panel-count">{plural(payload.executions, 'execution')}</span>
        </span>
        {payload.signature && <Signature signature={payload.signature} />}
      </button>
    </li>
  );
}

/**
 * An execution in two lines, never cut: status, number, 24-hour time and duration, then what ran.
 * `data-execution-id` carries the record's id for tests and users' own scripts.
 */
export function ExecutionRow(props: {
  record: IExecutionSummary;
  selected: boolean;
  onSelect: () => void;
  children?: React.ReactNode;
}): JSX.Element {
  const { record } = props;
  return (
    <li className={`polynb-panel-execution${props.selected ? ' polynb-selected' : ''}`}
      data-execution-id={record.id} data-status={record.status}>
      <button className="polynb-row-button" aria-expanded={props.selected} onClick={props.onSelect}>
        <span className="polynb-row-line">
          <Badge word={record.status} />
          <span className="polynb-panel-seq">#{record.seq}</span>
          <span className="polynb-panel-time">{clock(record.received_at)}</span>
          <span className="polynb-panel-duration">{duration(record.duration)}</span>
        </span>
        <span className="polynb-panel-name">
          {record.platform} · {record.payload} v{record.version ?? '?'}
        </span>
        {record.error && <span className="polynb-panel-row-error">{firstLine(record.error)}</span>}
      </button>
      {props.children}
    </li>
  );
}
