import { useEffect, useState } from 'preact/hooks';
import { useT } from '../i18n/index.js';

/** checks.sandbox of GET /readyz (server/routes/ops.ts). */
interface SandboxCheck {
  status: 'ok' | 'unavailable' | 'off' | 'checking';
  component?: 'engine' | 'image' | 'off';
  reason?: string;
  fix?: string;
}

/** Asked again this often while the sandbox is unavailable, so the banner goes once it is fixed. */
const RECHECK_MS = 15_000;


/**
 * A banner over every page while the service has no sandbox: runs cannot install or test the
 * apps they generate until the operator runs the fix it shows. Reads /readyz (no sign-in needed).
 */
export function SandboxBanner() {
  const t = useT('sandbox');
  const [check, setCheck] = useState<SandboxCheck | null>(null);

  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let stopped = false;
    const load = async (): Promise<void> => {
      try {
        const res = await fetch('/readyz', { headers: { accept: 'application/json' } });
        const body = (await res.json()) as { checks?: { sandbox?: SandboxCheck } };
        if (!stopped) setCheck(body.checks?.sandbox ?? null);
      } catch {
        // The service is unreachable: the pages say so themselves; keep the last answer.
      }
      if (!stopped) timer = setTimeout(() => void load(), RECHECK_MS);
    };
    void load();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, []);

  if (!check || check.status === 'ok' || check.status === 'checking') return null;
  return (
    <div role="alert" aria-label={t('label')} style={BANNER}>
      <strong>{t(`what.${check.component ?? 'unknown'}`, { defaultValue: t('what.unknown') })}</strong>
      {t('consequence')}
      <span style={{ color: 'var(--muted)' }}>{check.reason}.</span>
      {check.fix && (
        <div style={{ marginTop: '0.35em' }}>
          {t('fix')} <code style={FIX}>{check.fix}</code>
        </div>
      )}
    </div>
  );
}

// Inline styles keep the component in one file (styles.css is shared by every page).
const BANNER = {
  background: 'color-mix(in srgb, var(--warn) 14%, var(--panel))',
  borderBottom: '1px solid var(--warn)',
  color: 'var(--text)',
  padding: '0.6rem 1.25rem',
  fontSize: '0.92rem',
};
const FIX = { background: 'var(--bg)', border: '1px solid var(--border)', borderRadius: '4px', padding: '0.1em 0.4em', userSelect: 'all' as const };
