import { useEffect, useState } from 'preact/hooks';
import { api, type Me, type Usage } from '../api.js';
import { fmtCost, fmtTokens } from '../format.js';
import { Bar, ErrorNote } from './common.js';

export function UsagePage() {
  const [me, setMe] = useState<Me | null>(null);
  const [usage, setUsage] = useState<Usage | null>(null);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    api<Me>('GET', '/api/me').then(setMe, setError);
    api<Usage>('GET', '/api/usage').then(setUsage, setError);
  }, []);

  return (
    <div class="page">
      <h1>Usage</h1>
      <ErrorNote error={error} />
      {me && (
        <section class="card" aria-labelledby="limits">
          <h2 id="limits">
            {me.plan.name} plan <span class="muted small">· {usage?.month ?? me.usage.month}</span>
          </h2>
          <Bar label="Tokens this month" value={me.usage.usedTokens + me.usage.reservedTokens} max={me.plan.monthlyTokenLimit} format={fmtTokens} />
          <Bar label="Projects" value={me.usage.projects} max={me.plan.maxProjects} format={String} />
          <p class="muted small">
            Concurrent runs: up to {me.plan.maxConcurrentRuns ?? 'unlimited'} · Your own keys: {me.plan.byokAllowed ? 'yes' : 'no'} · Platform keys:{' '}
            {me.plan.platformKeysAllowed ? 'yes' : 'no'}
            {me.usage.reservedTokens > 0 && ` · ${fmtTokens(me.usage.reservedTokens)} tokens reserved by calls in flight`}
          </p>
        </section>
      )}
      {usage && (
        <section class="card" aria-labelledby="by-model">
          <h2 id="by-model">By model</h2>
          <p>
            Cost this month: <strong>{fmtCost(usage.costMicroUsd)}</strong>
          </p>
          {usage.byModel.length === 0 ? (
            <p class="muted">No calls yet this month.</p>
          ) : (
            <table>
              <thead>
                <tr>
                  <th scope="col">Provider</th>
                  <th scope="col">Model</th>
                  <th scope="col" class="num">Calls</th>
                  <th scope="col" class="num">Input</th>
                  <th scope="col" class="num">Output</th>
                  <th scope="col" class="num">Cost</th>
                </tr>
              </thead>
              <tbody>
                {usage.byModel.map((m) => (
                  <tr>
                    <td>{m.provider}</td>
                    <td>
                      <code>{m.model}</code>
                    </td>
                    <td class="num">{m.calls}</td>
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
