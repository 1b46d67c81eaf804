import { caretDownIcon, caretRightIcon } from '@jupyterlab/ui-components';
import * as React from 'react';

export interface ISectionProps {
  /** Remembers the section's open or closed state across polls. */
  id: string;
  title: string;
  summary?: string;
  expanded: boolean;
  onToggle: (id: string, expanded: boolean) => void;
  className?: string;
  attributes?: Record<string, string>;
  children?: React.ReactNode;
}

/** A collapsible part of the panel: a header button (caret, title, a short summary) and its body. */
export function Section(props: ISectionProps): JSX.Element {
  const caret = props.expanded ? caretDownIcon : caretRightIcon;
  return (
    <section className={`polynb-section ${props.className ?? ''}`} data-section={props.id} {...props.attributes}>
      <button
        className="polynb-section-header"
        aria-expanded={props.expanded}
        onClick={() => props.onToggle(props.id, !props.expanded)}
      >
        <caret.react tag="span" className="polynb-section-caret" />
        <span className="polynb-section-title">{props.title}</span>
        {props.summary && <span className="polynb-section-summary">{props.summary}</span>}
      </button>
      {props.expanded && <div className="polynb-section-body">{props.children}</div>}
    </section>
  );
}
