import type { ComponentChildren } from 'preact';
import { ApiError } from '../api.js';
import { useT } from '../i18n/index.js';

export function ErrorNote({ error }: { error: unknown }) {
  if (!error) return null;
  const message = error instanceof ApiError ? error.message : error instanceof Error ? error.message : String(error);
  const code = error instanceof ApiError ? error.code : undefined;
  return (
    <p class="error" role="alert">
      {message}
      {code && <span class="muted"> ({code})</span>}
    </p>
  );
}

export function Field(props: { label: string; hint?: string; children: ComponentChildren }) {
  return (
    <label class="field">
      <span class="label">{props.label}</span>
      {props.children}
      {props.hint && <span class="hint">{props.hint}</span>}
    </label>
  );
}

export function StatusBadge({ status }: { status: string }) {
  const t = useT('common');
  return <span class={`badge badge-${status}`}>{t(`status.${status}`, { defaultValue: status })}</span>;
}

export function Bar({ label, value, max, format }: { label: string; value: number; max: number | null; format: (n: number) => string }) {
  const t = useT('common');
  const pct = max ? Math.min(100, Math.round((value / max) * 100)) : 0;
  return (
    <div class="bar-row">
      <div class="bar-head">
        <span>{label}</span>
        <span class="muted">
          {format(value)} / {max == null ? t('unlimited') : format(max)}
        </span>
      </div>
      <div
        class={`bar ${pct >= 90 ? 'bar-hot' : pct >= 70 ? 'bar-warm' : ''}`}
        role="progressbar"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={max ?? undefined}
        aria-valuenow={value}
        aria-valuetext={max == null ? t('bar.ofUnlimited', { value: format(value) }) : t('bar.of', { value: format(value), max: format(max) })}
      >
        <div class="bar-fill" style={{ width: max == null ? '0%' : `${pct}%` }} />
      </div>
    </div>
  );
}
