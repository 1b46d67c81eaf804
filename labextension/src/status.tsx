import {
  checkIcon,
  circleEmptyIcon,
  closeIcon,
  errorIcon,
  historyIcon,
  LabIcon,
  runningIcon,
  stopIcon
} from '@jupyterlab/ui-components';
import * as React from 'react';

type Tone = 'ok' | 'bad' | 'busy' | 'idle';

/** Every status and platform state as an icon and a tone: the word always goes with them, never colour alone.
 * What ended without a result wears the failure's tone; its icon tells how it ended (crashed, stopped, too slow). */
const LOOKS: Record<string, [LabIcon, Tone]> = {
  succeeded: [checkIcon, 'ok'],
  ready: [checkIcon, 'ok'],
  failed: [errorIcon, 'bad'],
  error: [errorIcon, 'bad'],
  interrupted: [stopIcon, 'bad'],
  cancelled: [closeIcon, 'bad'],
  'timed out': [historyIcon, 'bad'],
  running: [runningIcon, 'busy'],
  starting: [runningIcon, 'busy'],
  received: [circleEmptyIcon, 'busy'],
  stopped: [stopIcon, 'idle']
};

/** An execution's status or a platform's state: icon, colour and the word. */
export function Badge(props: { word: string }): JSX.Element {
  const [icon, tone] = LOOKS[props.word] ?? [circleEmptyIcon, 'idle'];
  return (
    <span className={`polynb-badge polynb-tone-${tone}`} data-word={props.word}>
      <icon.react tag="span" className="polynb-badge-icon" />
      <span className="polynb-badge-word">{props.word}</span>
    </span>
  );
}
