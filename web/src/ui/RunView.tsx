import { useEffect, useRef } from 'preact/hooks';
import { useT, type T } from '../i18n/index.js';
import type { RunView as RunState, StepView, TerminalLine } from '../run-state.js';
import type { StreamStatus } from '../stream.js';
import { StatusBadge } from './common.js';
import { CostMeter, type MeterBudget } from './CostMeter.js';

const STEP_ICON: Record<string, string> = { running: '◌', succeeded: '✓', failed: '✗', cancelled: '■' };

/** "coder · t2: Add the API · round 1", from the step's fields in the reader's language. */
function stepTitle(t: T, s: StepView): string {
  const kind = t(`step.${s.kind}`, { defaultValue: s.kind });
  const task = s.taskId ? `· ${s.taskId}${s.taskTitle ? `: ${s.taskTitle}` : ''}` : '';
  return [kind, task, s.round > 0 && s.kind === 'fixer' ? `· ${t('round', { n: s.round })}` : ''].filter(Boolean).join(' ');
}

const exitText = (t: T, c: { exitCode: number | null; timedOut: boolean }) => `${t('exit', { code: c.exitCode })}${c.timedOut ? ` (${t('timedOut')})` : ''}`;

function terminalText(t: T, l: TerminalLine): string {
  return l.kind === 'exit' ? exitText(t, { exitCode: l.exitCode ?? null, timedOut: Boolean(l.timedOut) }) : l.text;
}

export function RunPanel(props: { run: RunState; connection: StreamStatus; budget?: MeterBudget | undefined; onCancel?: () => void; cancelling: boolean }) {
  const t = useT('run');
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
          <span class="muted">{t('run')}</span> <StatusBadge status={run.status} />
          {run.reason && <span class="reason"> {t(`reason.${run.reason}`, { defaultValue: run.reason })}</span>}
          {run.message && (
            <p class="error run-message" translate={false}>
              {run.message}
            </p>
          )}
        </div>
        <CostMeter inputTokens={run.inputTokens} outputTokens={run.outputTokens} costMicroUsd={run.costMicroUsd} budget={props.budget} />
        <div class="conn" role="status" aria-live="polite" data-connection={props.connection}>
          <span class={`dot dot-${props.connection}`} aria-hidden="true" /> {t(`connection.${props.connection}`)}
        </div>
        {props.onCancel && (
          <button class="danger" onClick={props.onCancel} disabled={props.cancelling}>
            {props.cancelling ? t('cancelling') : t('cancel')}
          </button>
        )}
      </div>
      <div class="run-body">
        <section aria-label={t('steps')} class="steps">
          <h3>{t('steps')}</h3>
          {run.steps.length === 0 && <p class="muted">{run.status === 'idle' ? t('noRun') : t('waiting')}</p>}
          <ol>
            {run.steps.map((s) => (
              <li class={`step step-${s.status}`} data-step={s.kind}>
                <details open={s.status === 'running'}>
                  <summary>
                    <span class={`icon ${s.status === 'running' ? 'spin' : ''}`} aria-hidden="true">
                      {STEP_ICON[s.status] ?? '•'}
                    </span>{' '}
                    {stepTitle(t, s)} <span class="sr-only">({t(`common:status.${s.status}`)})</span>
                  </summary>
                  {s.summary && (
                    <p class="step-summary" translate={false}>
                      {s.summary}
                    </p>
                  )}
                  {s.tools.length > 0 && (
                    <ul class="tool-calls" aria-label={t('toolCalls')}>
                      {s.tools.map((call) => (
                        <li class={call.ok ? 'tool-ok' : 'tool-error'} data-tool={call.name}>
                          <code>{call.name}</code> {call.target && <span class="mono muted">{call.target}</span>} {!call.ok && <span class="error">{t('failed')}</span>}
                        </li>
                      ))}
                    </ul>
                  )}
                  {s.commands.length > 0 && (
                    <ul class="commands" aria-label={t('commands')}>
                      {s.commands.map((c) => (
                        <li data-exit-code={c.exitCode ?? ''}>
                          <code>$ {c.command}</code>{' '}
                          {c.exitCode === null ? <span class="muted">{t('running')}</span> : <span class={c.exitCode === 0 ? 'exit-ok' : 'exit-bad'}>{exitText(t, c)}</span>}
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
        <section aria-label={t('filesWritten')} class="written">
          <h3>{t('filesWritten')}</h3>
          {run.files.length === 0 ? (
            <p class="muted">{t('noneYet')}</p>
          ) : (
            <ul>
              {run.files.map((f) => (
                <li class="mono appear">{f}</li>
              ))}
            </ul>
          )}
        </section>
      </div>
      <section aria-label={t('terminal')} class="terminal-wrap">
        <h3>{t('terminal')}</h3>
        <pre class="terminal" ref={term} tabIndex={0}>
          {run.terminal.length === 0 ? <span class="muted">{t('terminalEmpty')}</span> : run.terminal.map((l) => <div class={`t-${l.kind}`}>{terminalText(t, l)}</div>)}
        </pre>
      </section>
      <details class="event-log">
        <summary>{t('eventLog', { count: run.log.length })}</summary>
        <ol>
          {run.log.map((l) => (
            <li data-seq={l.seq}>
              <code>#{l.seq}</code> {l.type} <span class="muted" translate={false}>
                {l.summary}
              </span>
            </li>
          ))}
        </ol>
      </details>
    </div>
  );
}
