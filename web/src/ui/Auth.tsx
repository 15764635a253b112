import { useState } from 'preact/hooks';
import { api, type Session } from '../api.js';
import { useT } from '../i18n/index.js';
import { navigate } from '../router.js';
import { session } from '../session.js';
import { ErrorNote, Field } from './common.js';

export function AuthPage({ mode }: { mode: 'login' | 'signup' }) {
  const t = useT('auth');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const signup = mode === 'signup';

  async function submit(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const res = await api<Session>('POST', signup ? '/api/auth/register' : '/api/auth/login', { email, password });
      session.set(res.token);
      navigate('/', true);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <section class="auth card">
      <h1>
        <span class="logo" aria-hidden="true">S</span> Samokoder
      </h1>
      <p class="muted">{t('tagline')}</p>
      <h2>{signup ? t('createAccount') : t('signIn')}</h2>
      <form onSubmit={submit}>
        <Field label={t('email')}>
          <input type="email" name="email" autoComplete="email" required value={email} onInput={(e) => setEmail(e.currentTarget.value)} />
        </Field>
        <Field label={t('password')} hint={signup ? t('passwordHint') : undefined}>
          <input
            type="password"
            name="password"
            autoComplete={signup ? 'new-password' : 'current-password'}
            minLength={signup ? 10 : 1}
            required
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
          />
        </Field>
        <ErrorNote error={error} />
        <button type="submit" class="primary" disabled={busy}>
          {busy ? t('wait') : signup ? t('createAccountButton') : t('signIn')}
        </button>
      </form>
      <p>
        {signup ? (
          <>
            {t('haveAccount')} <a href="/login">{t('signIn')}</a>
          </>
        ) : (
          <>
            {t('newHere')} <a href="/signup">{t('createAccount')}</a>
          </>
        )}
      </p>
    </section>
  );
}
