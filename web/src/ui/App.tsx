import { useEffect, useState } from 'preact/hooks';
import { api, type Me } from '../api.js';
import { useT } from '../i18n/index.js';
import { navigate, onLinkClick, usePath } from '../router.js';
import { session } from '../session.js';
import { AuthPage } from './Auth.js';
import { KeysPage } from './Keys.js';
import { LocaleSwitch } from './LocaleSwitch.js';
import { ProjectPage } from './Project.js';
import { ProjectsPage } from './Projects.js';
import { UsagePage } from './Usage.js';

function useSession(): string | null {
  const [token, setToken] = useState(session.token());
  useEffect(() => {
    const off = session.subscribe(() => setToken(session.token()));
    return () => void off();
  }, []);
  return token;
}

export function App() {
  const t = useT('common');
  const path = usePath();
  const token = useSession();
  const [me, setMe] = useState<Me | null>(null);

  useEffect(() => {
    if (!token) {
      setMe(null);
      if (path !== '/login' && path !== '/signup') navigate('/login', true);
      return;
    }
    api<Me>('GET', '/api/me').then(setMe, () => undefined);
  }, [token]);

  useEffect(() => {
    document.getElementById('main')?.focus({ preventScroll: true });
  }, [path]);

  if (!token) {
    return (
      <div class="shell" onClick={onLinkClick}>
        <main id="main" tabIndex={-1}>
          <AuthPage mode={path === '/signup' ? 'signup' : 'login'} />
        </main>
      </div>
    );
  }

  const projectMatch = /^\/projects\/([^/]+)$/.exec(path);
  let page;
  if (path === '/keys') page = <KeysPage />;
  else if (path === '/usage') page = <UsagePage />;
  else if (projectMatch) page = <ProjectPage id={decodeURIComponent(projectMatch[1]!)} />;
  else page = <ProjectsPage me={me} />;

  const nav = [
    ['/', t('nav.projects')],
    ['/keys', t('nav.keys')],
    ['/usage', t('nav.usage')],
  ] as const;
  const current = projectMatch ? '/' : path;

  return (
    <div class="shell" onClick={onLinkClick}>
      <a class="skip" href="#main" onClick={(e) => (e.preventDefault(), document.getElementById('main')?.focus())}>
        {t('skip')}
      </a>
      <header class="topbar">
        <a class="brand" href="/">
          <span class="logo" aria-hidden="true">S</span> Samokoder
        </a>
        <nav aria-label={t('nav.main')}>
          {nav.map(([href, label]) => (
            <a href={href} aria-current={current === href ? 'page' : undefined}>
              {label}
            </a>
          ))}
        </nav>
        <div class="who">
          {me && (
            <span class="muted" title={t('plan', { name: me.plan.name })} translate={false}>
              {me.user.email}
            </span>
          )}
          <button
            class="ghost"
            onClick={() => {
              void api('POST', '/api/auth/logout').catch(() => undefined);
              session.clear();
            }}
          >
            {t('signOut')}
          </button>
          <LocaleSwitch />
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {page}
      </main>
    </div>
  );
}
