import { HTMLSelect } from '@jupyterlab/ui-components';
import * as React from 'react';

import { IFilters, IJournal } from './api';
import { STATUSES } from './statuses';

/** What each filter shows when nothing is chosen; the scope's default is this notebook, as `polynb.records()`. */
const ALL: Record<keyof IFilters, string> = {
  scope: 'this notebook', platform: 'all platforms', payload: 'all payloads', status: 'all statuses'
};
const LABELS: Record<string, string> = { folder: 'whole folder' };

/** The choices each filter offers, from what the journals hold (payloads of the chosen platform only). */
function choices(journals: IJournal[], filters: IFilters): Record<keyof IFilters, string[]> {
  const platforms = new Set<string>();
  const payloads = new Set<string>();
  for (const journal of journals) {
    journal.platforms.forEach(p => platforms.add(p.platform));
    journal.payloads.forEach(p => {
      platforms.add(p.platform);
      if (!filters.platform || p.platform === filters.platform) {
        payloads.add(p.name);
      }
    });
  }
  return { scope: ['folder'], platform: [...platforms].sort(), payload: [...payloads].sort(), status: STATUSES };
}

/** Scope, platform, payload and status filters, JupyterLab's own selects; they wrap onto lines as the panel
 * narrows. */
export function Filters(props: {
  journals: IJournal[];
  filters: IFilters;
  onChange: (filters: IFilters) => void;
}): JSX.Element {
  const offered = choices(props.journals, props.filters);
  return (
    <div className="polynb-panel-filters">
      {(Object.keys(ALL) as (keyof IFilters)[]).map(key => {
        const values = offered[key].includes(props.filters[key]) || !props.filters[key]
          ? offered[key] : [props.filters[key], ...offered[key]];
        return (
          <HTMLSelect key={key} className={`polynb-panel-filter polynb-panel-filter-${key}`}
            aria-label={`filter by ${key}`} value={props.filters[key]}
            options={[{ value: '', label: ALL[key] }, ...values.map(value => ({ value, label: LABELS[value] ?? value }))]}
            onChange={event => props.onChange({ ...props.filters, [key]: event.currentTarget.value })} />
        );
      })}
    </div>
  );
}
