import { useEffect, useRef } from 'preact/hooks';
import type { RunView as RunState } from '../run-state.js';
import type { StreamStatus } from '../stream.js';
import { StatusBadge } from './common.js';
import { CostMeter, type MeterBudget } from './CostMeter.js';

const STEP_ICON: Record<string, string> = { running: '◌', succeeded: '✓', failed: '✗', cancelled: '■' };

export function RunPanel(props: { run: RunState; connection: StreamStatus; budget?: MeterBudget | undefined; onCancel?: () => void; cancelling: boolean }) {
  const { run } = props;
  const term = useRef<HTMLPreElement>(null);
  useEffect(() => {
    const el = term.current;
    if (el && el.scrollHeight - el.scrollTop - el.clientHeight < 80) el.scrollTop = el.scrollHeight;
  }, [run.terminal.length]);

  return (
    <div class="run">
      <div class="run-head">
        <div>
          <span class="muted">Run</span> <StatusBadge status={run.status} />
          {run.reason && <span class="reason"> {run.reason}</span>}
          {run.message && <p class="error run-message">{run.message}</p>}
        </div>
        <CostMeter inputTokens={run.inputTokens} outputTokens={run.outputTokens} costMicroUsd={run.costMicroUsd} budget={props.budget} />
        <div class="conn" role="status" aria-live="polite" data-connection={props.connection}>
          <span class={`dot dot-${props.connection}`} aria-hidden="true" /> {props.connection === 'live' ? 'live' : props.connection === 'closed' ? 'offline' : `${props.connection}…`}
        </div>
        {props.onCancel && (
          <button class="danger" onClick={props.onCancel} disabled={props.cancelling}>
            {props.cancelling ? 'Cancelling…' : 'Cancel run'}
          </button>
        )}
      </div>
      <div class="run-body">
        <section aria-label="Steps" class="steps">
          <h3>Steps</h3>
          {run.steps.length === 0 && <p class="muted">{run.status === 'idle' ? 'No run yet.' : 'Waiting for the first step…'}</p>}
          <ol>
            {run.steps.map((s) => (
              <li class={`step step-${s.status}`} data-step={s.kind}>
                <details open={s.status === 'running'}>
                  <summary>
                    <span class={`icon ${s.status === 'running' ? 'spin' : ''}`} aria-hidden="true">
                      {STEP_ICON[s.status] ?? '•'}
                    </span>{' '}
                    {s.title} <span class="sr-only">({s.status})</span>
                  </summary>
                  {s.summary && <p class="step-summary">{s.summary}</p>}
                  {s.tools.length > 0 && (
                    <ul class="tool-calls" aria-label="Tool calls">
                      {s.tools.map((t) => (
                        <li class={t.ok ? 'tool-ok' : 'tool-error'} data-tool={t.name}>
                          <code>{t.name}</code> {t.target && <span class="mono muted">{t.target}</span>} {!t.ok && <span class="error">failed</span>}
                        </li>
                      ))}
                    </ul>
                  )}
                  {s.commands.length > 0 && (
                    <ul class="commands" aria-label="Commands">
                      {s.commands.map((c) => (
                        <li data-exit-code={c.exitCode ?? ''}>
                          <code>$ {c.command}</code>{' '}
                          {c.exitCode === null ? <span class="muted">running…</span> : <span class={c.exitCode === 0 ? 'exit-ok' : 'exit-bad'}>exit {c.exitCode}{c.timedOut ? ' (timed out)' : ''}</span>}
                        </li>
                      ))}
                    </ul>
                  )}
                  {s.text && <pre class="agent-text">{s.text}</pre>}
                </details>
              </li>
            ))}
          </ol>
        </section>
        <section aria-label="Files written" class="written">
          <h3>Files written</h3>
          {run.files.length === 0 ? (
            <p class="muted">None yet.</p>
          ) : (
            <ul>
              {run.files.map((f) => (
                <li class="mono appear">{f}</li>
              ))}
            </ul>
          )}
        </section>
      </div>
      <section aria-label="Terminal" class="terminal-wrap">
        <h3>Terminal</h3>
        <pre class="terminal" ref={term} tabIndex={0}>
          {run.terminal.length === 0 ? <span class="muted">Commands run in the sandbox appear here.</span> : run.terminal.map((l) => <div class={`t-${l.kind}`}>{l.text}</div>)}
        </pre>
      </section>
      <details class="event-log">
        <summary>Event log ({run.log.length})</summary>
        <ol>
          {run.log.map((l) => (
            <li data-seq={l.seq}>
              <code>#{l.seq}</code> {l.type} <span class="muted">{l.summary}</span>
            </li>
          ))}
        </ol>
      </details>
    </div>
  );
}
