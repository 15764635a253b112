import { useEffect, useState } from 'preact/hooks';
import { api, type Me, type Usage } from '../api.js';
import { fmtCost, fmtTokens } from '../format.js';
import { formatDate, formatNumber, useT } from '../i18n/index.js';
import { providerName } from '../providers.js';
import { Bar, ErrorNote } from './common.js';

export function UsagePage() {
  const t = useT('usage');
  const [me, setMe] = useState<Me | null>(null);
  const [usage, setUsage] = useState<Usage | null>(null);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    api<Me>('GET', '/api/me').then(setMe, setError);
    api<Usage>('GET', '/api/usage').then(setUsage, setError);
  }, []);

  return (
    <div class="page">
      <h1>{t('title')}</h1>
      <ErrorNote error={error} />
      {me && (
        <section class="card" aria-labelledby="limits">
          <h2 id="limits">
            {t('plan', { name: me.plan.name })} <span class="muted small">· {formatDate(usage?.month ?? me.usage.month, { year: 'numeric', month: 'long', timeZone: 'UTC' })}</span>
          </h2>
          <Bar label={t('tokensThisMonth')} value={me.usage.usedTokens + me.usage.reservedTokens} max={me.plan.monthlyTokenLimit} format={fmtTokens} />
          <Bar label={t('projects')} value={me.usage.projects} max={me.plan.maxProjects} format={(n) => formatNumber(n)} />
          <p class="muted small">
            {me.plan.maxConcurrentRuns == null ? t('concurrentUnlimited') : t('concurrent', { count: me.plan.maxConcurrentRuns })} · {t('byok')}{' '}
            {me.plan.byokAllowed ? t('yes') : t('no')} · {t('platformKeys')} {me.plan.platformKeysAllowed ? t('yes') : t('no')}
            {me.usage.reservedTokens > 0 && ` · ${t('reserved', { count: me.usage.reservedTokens, tokens: fmtTokens(me.usage.reservedTokens) })}`}
          </p>
        </section>
      )}
      {usage && (
        <section class="card" aria-labelledby="by-model">
          <h2 id="by-model">{t('byModel')}</h2>
          <p>
            {t('costThisMonth')} <strong>{fmtCost(usage.costMicroUsd)}</strong>
          </p>
          {usage.byModel.length === 0 ? (
            <p class="muted">{t('noCalls')}</p>
          ) : (
            <table>
              <thead>
                <tr>
                  <th scope="col">{t('col.provider')}</th>
                  <th scope="col">{t('col.model')}</th>
                  <th scope="col" class="num">{t('col.calls')}</th>
                  <th scope="col" class="num">{t('col.input')}</th>
                  <th scope="col" class="num">{t('col.output')}</th>
                  <th scope="col" class="num">{t('col.cost')}</th>
                </tr>
              </thead>
              <tbody>
                {usage.byModel.map((m) => (
                  <tr>
                    <td>{providerName(m.provider)}</td>
                    <td>
                      <code>{m.model}</code>
                    </td>
                    <td class="num">{formatNumber(m.calls)}</td>
                    <td class="num">{fmtTokens(m.inputTokens)}</td>
                    <td class="num">{fmtTokens(m.outputTokens)}</td>
                    <td class="num">{fmtCost(m.costMicroUsd)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
      )}
    </div>
  );
}
