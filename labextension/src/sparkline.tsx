import * as React from 'react';

import { BUCKETS, IBucket, lastMinute, plural } from './format';

const BAR = 4;
const GAP = 1;
const HEIGHT = 14;

/**
 * A platform's last minute at a glance: twelve five-second bars, failures stacked on top in the error
 * colour, and the count as text beside it so the numbers never rest on colour alone.
 */
export function Sparkline(props: {
  platform: string;
  records: readonly { received_at: number; status: string }[];
  now: number;
}): JSX.Element {
  const buckets = lastMinute(props.records, props.now);
  const total = buckets.reduce((sum, b) => sum + b.ok + b.failed, 0);
  const failed = buckets.reduce((sum, b) => sum + b.failed, 0);
  const tallest = Math.max(1, ...buckets.map(b => b.ok + b.failed));
  const scale = (count: number) => (count / tallest) * (HEIGHT - 1);
  const label = `${plural(total, 'execution')} in the last minute` + (failed ? `, ${failed} failed` : '');
  return (
    <span className="polynb-sparkline" data-platform={props.platform} data-count={total} data-failed={failed} title={label}>
      <svg width={BUCKETS * (BAR + GAP)} height={HEIGHT} role="img" aria-label={label}>
        {buckets.map((bucket: IBucket, i: number) => {
          const x = i * (BAR + GAP);
          const ok = scale(bucket.ok);
          const bad = scale(bucket.failed);
          return (
            <g key={i}>
              <rect className="polynb-spark-base" x={x} y={HEIGHT - 1} width={BAR} height={1} />
              {ok > 0 && <rect className="polynb-spark-ok" x={x} y={HEIGHT - ok} width={BAR} height={ok} />}
              {bad > 0 && <rect className="polynb-spark-failed" x={x} y={HEIGHT - ok - bad} width={BAR} height={bad} />}
            </g>
          );
        })}
      </svg>
      <span className="polynb-sparkline-count">{total}/min</span>
    </span>
  );
}
