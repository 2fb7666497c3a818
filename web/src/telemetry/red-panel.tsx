// A service's traffic over the last 15 minutes, from the server spans it sent: requests per
// second, error rate, p50/p99 latency — three small SVG charts, each with its figures in
// words beside it, and the same figures per route in a table. Read again every 10 s.
import { useId, useState } from 'react';
import type { RedResponse, RedService } from '../api/types.ts';
import { ErrorNote, Loading } from '../components/common.tsx';
import { clockTime } from '../format.ts';
import { useClient } from '../live/hooks.ts';
import { usePoll } from '../live/use-poll.ts';
import { Link } from '../router.tsx';
import { latest, linePaths, niceMax, peak, redValues, type Value } from './chart.ts';
import { msText, percentText, rateText } from './figures.ts';
import './red-panel.css';

const EVERY_MS = 10_000;
const WIDTH = 300;
const HEIGHT = 72;

export function RedPanel({ service }: { service: string }) {
  const client = useClient();
  const [off, setOff] = useState(false);
  const red = usePoll<RedResponse>(
    service,
    (signal) => client.get<RedResponse>(`/v1/metrics/red?service=${encodeURIComponent(service)}`, signal),
    off ? 0 : EVERY_MS,
  );
  // 404: this control plane has no telemetry; asking every 10 s will not change that.
  if ((red.errorStatus === 404) !== off) setOff(red.errorStatus === 404);
  const report = red.data;
  const entry = report?.services.find((s) => s.service === service);
  return (
    <section aria-labelledby="red-title" className="red">
      <div className="title-row">
        <h2 id="red-title">Traffic</h2>
        <span className="muted small">
          last 15 minutes, from the server spans of {service}
          {report ? ` · updated ${clockTime(report.at, Date.parse(report.at))}` : ''}
        </span>
      </div>
      {red.errorStatus === 404 && !report ? (
        <p className="muted">Telemetry is not available on this control plane.</p>
      ) : red.error ? (
        <ErrorNote>{red.error}</ErrorNote>
      ) : null}
      {!report ? (
        red.error ? null : (
          <Loading what="traffic figures" />
        )
      ) : !entry ? (
        <p className="muted" role="status">
          No request reached {service} in the last 15 minutes (or it sends no traces).
        </p>
      ) : (
        <RedFigures entry={entry} report={report} />
      )}
      <p>
        <Link href={`/traces?service=${encodeURIComponent(service)}`}>Traces through {service}</Link>
      </p>
    </section>
  );
}

function RedFigures({ entry, report }: { entry: RedService; report: RedResponse }) {
  const slotMs = report.slotSeconds * 1000;
  const values = redValues(entry.series, slotMs, Date.parse(report.at));
  const t = entry.totals;
  const last = values.times.length - 1;
  const slotEnd =
    last >= 0
      ? `in the ${report.slotSeconds} s to ${clockTime(new Date(values.times[last]! + slotMs).toISOString(), Date.parse(report.at))}`
      : '';
  const nowRate = values.rate[last];
  const nowErrors = values.errorRate[last];
  const rateMax = niceMax(values.rate, 1);
  const errorValues = values.errorRate.map((v) => (v === null ? null : v * 100));
  const errorMax = Math.min(100, niceMax(errorValues, 5));
  const latencyMax = niceMax([...values.p50, ...values.p99], 10);
  const p99Now = latest(values.p99);
  const p50Now = latest(values.p50);
  const ratePeak = peak(values.rate);
  const p99Peak = peak(values.p99);
  return (
    <>
      <div className="red-charts">
        <Chart
          title="Requests per second"
          headline={nowRate === undefined ? '—' : `${rateText(nowRate)}/s`}
          summary={`Now ${nowRate === undefined ? 'unknown' : `${rateText(nowRate)} per second`} (${slotEnd}). 15-minute average ${rateText(t.ratePerSecond)}/s over ${t.count} request${t.count === 1 ? '' : 's'}${ratePeak && ratePeak.value > 0 ? `; peak ${rateText(ratePeak.value)}/s` : ''}.`}
          max={rateMax}
          maxLabel={`${rateText(rateMax)}/s`}
          lines={[{ values: values.rate, className: 'line-rate' }]}
        />
        <Chart
          title="Error rate"
          headline={nowErrors === undefined || nowErrors === null ? '—' : percentText(nowErrors)}
          summary={`Now ${nowErrors === undefined || nowErrors === null ? 'no request' : percentText(nowErrors)}. 15 minutes: ${t.errors} failed of ${t.count} (${percentText(t.errorRate)}).`}
          max={errorMax}
          maxLabel={`${errorMax}%`}
          lines={[{ values: errorValues, className: 'line-errors' }]}
          danger={t.errors > 0}
        />
        <Chart
          title="Latency p50 / p99"
          when="latest"
          headline={p99Now ? `${msText(p50Now?.value ?? 0)} / ${msText(p99Now.value)}` : '—'}
          summary={`Latest p50 ${p50Now ? msText(p50Now.value) : 'unknown'}, p99 ${p99Now ? msText(p99Now.value) : 'unknown'}. 15 minutes: p50 ${t.p50Ms === null ? '—' : msText(t.p50Ms)}, p99 ${t.p99Ms === null ? '—' : msText(t.p99Ms)}${p99Peak ? `; worst 10-s p99 ${msText(p99Peak.value)}` : ''}.`}
          max={latencyMax}
          maxLabel={msText(latencyMax)}
          lines={[
            { values: values.p50, className: 'line-p50', label: 'p50' },
            { values: values.p99, className: 'line-p99', label: 'p99' },
          ]}
        />
      </div>
      <table
        className="stack-table red-table"
        aria-label={`Traffic of ${entry.service} per route, last 15 minutes`}
      >
        <thead>
          <tr>
            <th scope="col">Route</th>
            <th scope="col" className="num">
              Requests
            </th>
            <th scope="col" className="num">
              Per second
            </th>
            <th scope="col" className="num">
              Errors
            </th>
            <th scope="col" className="num">
              p50
            </th>
            <th scope="col" className="num">
              p99
            </th>
          </tr>
        </thead>
        <tbody>
          {entry.routes.map((r) => (
            <tr key={r.route} data-route={r.route} data-requests={r.totals.count}>
              <th scope="row" data-label="Route">
                <code>{r.route}</code>
              </th>
              <td data-label="Requests" className="num">
                {r.totals.count}
              </td>
              <td data-label="Per second" className="num">
                {rateText(r.totals.ratePerSecond)}
              </td>
              <td data-label="Errors" className={`num${r.totals.errors > 0 ? ' text-failed' : ''}`}>
                {r.totals.errors} ({percentText(r.totals.errorRate)})
              </td>
              <td data-label="p50" className="num">
                {r.totals.p50Ms === null ? '—' : msText(r.totals.p50Ms)}
              </td>
              <td data-label="p99" className="num">
                {r.totals.p99Ms === null ? '—' : msText(r.totals.p99Ms)}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

interface Line {
  readonly values: readonly Value[];
  readonly className: string;
  readonly label?: string;
}

function Chart({
  title,
  headline,
  when = 'now',
  summary,
  max,
  maxLabel,
  lines,
  danger = false,
}: {
  title: string;
  headline: string;
  /** What the headline figure is: `now` (the last complete slot) or `latest`. */
  when?: string;
  summary: string;
  max: number;
  maxLabel: string;
  lines: readonly Line[];
  danger?: boolean;
}) {
  const id = useId();
  return (
    <figure
      className={`red-chart${danger ? ' red-chart-danger' : ''}`}
      aria-labelledby={`${id}-t`}
      aria-describedby={`${id}-s`}
    >
      <figcaption>
        <span className="red-chart-title" id={`${id}-t`}>
          {title}
        </span>
        <span className="red-chart-value">
          {headline}
          {headline !== '—' ? <span className="red-chart-now"> {when}</span> : null}
        </span>
        {lines.length > 1 ? (
          <span className="red-chart-key" aria-hidden="true">
            {lines.map((l) => (
              <span key={l.className} className={`key ${l.className}`}>
                {l.label}
              </span>
            ))}
          </span>
        ) : null}
      </figcaption>
      <div className="red-plot" aria-hidden="true">
        <span className="red-axis-max">{maxLabel}</span>
        <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} preserveAspectRatio="none" focusable="false">
          <line className="grid" x1="0" x2={WIDTH} y1={HEIGHT / 2} y2={HEIGHT / 2} />
          <line className="baseline" x1="0" x2={WIDTH} y1={HEIGHT} y2={HEIGHT} />
          {lines.map((l) => {
            const { line, dots } = linePaths(l.values, WIDTH, HEIGHT, max);
            return (
              <g key={l.className} className={l.className}>
                <path className="plot-line" d={line} />
                <path className="plot-dots" d={dots} />
              </g>
            );
          })}
        </svg>
        <span className="red-axis-time">
          <span>15 min ago</span>
          <span>now</span>
        </span>
      </div>
      <p className="red-summary small" id={`${id}-s`}>
        {summary}
      </p>
    </figure>
  );
}
