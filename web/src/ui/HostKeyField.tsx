import { useT } from '../i18n/index.js';
import { Field } from './common.js';

/** ssh://… or user@host:path (no "//" before the first colon): the URLs whose server shows an SSH host key. */
export function isSshUrl(url: string): boolean {
  const u = url.trim();
  return /^ssh:\/\//i.test(u) || /^(?:[\w.-]+@)?[\w.-]+:(?!\/\/)/.test(u);
}

/**
 * The SSH host key (or its SHA256 fingerprint) the server must show, for ssh URLs only: the
 * service trusts no host key on first use, so a self-hosted server's key is pinned here.
 */
export function HostKeyField({ url, value, onChange }: { url: string; value: string; onChange: (v: string) => void }) {
  const t = useT('sshHostKey');
  if (!isSshUrl(url)) return null;
  return (
    <Field label={t('label')} hint={t('hint')}>
      <textarea name="hostKey" rows={2} spellcheck={false} placeholder="SHA256:… / ssh-ed25519 AAAA…" value={value} onInput={(e) => onChange(e.currentTarget.value)} />
    </Field>
  );
}
