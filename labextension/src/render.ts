import { IExecution, IExecutionSummary, IPayload, IPlatform } from './api';

/** Build an element with a class and text, the only DOM helper the panel needs. */
export function el(tag: string, className: string, text?: string): HTMLElement {
  const node = document.createElement(tag);
  node.className = className;
  if (text !== undefined) {
    node.textContent = text;
  }
  return node;
}

function clock(epoch: number | null): string {
  return epoch ? new Date(epoch * 1000).toLocaleTimeString() : '';
}

function milliseconds(seconds: number | null): string {
  return seconds === null ? '' : `${Math.round(seconds * 1000)} ms`;
}

export function platformRow(platform: IPlatform): HTMLElement {
  const row = el('li', 'polynb-panel-platform');
  row.dataset.state = platform.state;
  row.append(el('span', 'polynb-panel-name', platform.platform), el('span', 'polynb-panel-state', platform.state));
  if (platform.address) {
    row.append(el('span', 'polynb-panel-address', platform.address));
  }
  row.title = platform.detail ?? '';
  return row;
}

export function payloadRow(payload: IPayload, onJump: () => void): HTMLElement {
  const row = el('li', 'polynb-panel-payload');
  row.dataset.executions = String(payload.executions);
  row.append(
    el('span', 'polynb-panel-name', `${payload.platform} · ${payload.name}`),
    el('span', 'polynb-panel-version', `v${payload.version}`),
    el('span', 'polynb-panel-count', `${payload.executions} executions`)
  );
  row.title = payload.cell_id ? 'Go to the cell that defines it' : (payload.address ?? '');
  row.addEventListener('click', onJump);
  return row;
}

export function executionRow(record: IExecutionSummary, selected: boolean, onSelect: () => void): HTMLElement {
  const row = el('li', `polynb-panel-execution${selected ? ' polynb-selected' : ''}`);
  row.dataset.status = record.status;
  row.dataset.id = record.id;
  row.append(
    el('span', 'polynb-panel-seq', `#${record.seq}`),
    el('span', 'polynb-panel-time', clock(record.received_at)),
    el('span', 'polynb-panel-name', `${record.platform} · ${record.payload} v${record.version ?? '?'}`),
    el('span', `polynb-panel-status polynb-status-${record.status}`, record.status),
    el('span', 'polynb-panel-duration', milliseconds(record.duration))
  );
  if (record.error) {
    row.title = record.error;
  }
  row.addEventListener('click', onSelect);
  return row;
}

function section(title: string, body: string): HTMLElement {
  const part = el('div', 'polynb-panel-section');
  part.append(el('h4', '', title), el('pre', '', body));
  return part;
}

function pretty(value: unknown): string {
  return JSON.stringify(value, null, 2) ?? 'null';
}

export function detail(record: IExecution): HTMLElement {
  const pane = el('div', 'polynb-panel-detail');
  pane.dataset.id = record.id;
  pane.append(
    el('h3', '', `#${record.seq} ${record.platform} · ${record.payload} v${record.version ?? '?'} — ${record.status}`),
    el('div', 'polynb-panel-times',
      `received ${clock(record.received_at)}, started ${clock(record.started_at)}, ` +
      `finished ${clock(record.finished_at)} (${milliseconds(record.duration)})`),
    section('Input', pretty(record.input)),
    section('Output', pretty(record.output))
  );
  const optional: [string, string][] = [
    ['Stdout', record.stdout],
    ['Stderr', record.stderr],
    ['Logs', record.logs.map(l => `[${l.level}] ${l.logger}: ${l.message}`).join('\n')],
    ['Error', record.error ?? ''],
    ['Traceback', record.traceback ?? '']
  ];
  for (const [title, body] of optional) {
    if (body) {
      pane.append(section(title, body));
    }
  }
  return pane;
}
