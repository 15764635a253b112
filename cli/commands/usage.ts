import { parseArgs } from 'node:util';
import type { Me, Usage } from '../../protocol/api-types.js';
import type { ExitCode } from '../exit-codes.js';
import { EXIT } from '../exit-codes.js';
import { fmtCost, fmtTokens, table, textBar } from '../format.js';
import { REMOTE_HELP, REMOTE_OPTIONS, remoteClient } from '../remote.js';

export const USAGE_HELP = `samokoder usage

This month's tokens and cost by model, and your plan's limits.

${REMOTE_HELP}`;

export async function usageCommand(argv: string[]): Promise<ExitCode> {
  const { values } = parseArgs({ args: argv, options: REMOTE_OPTIONS });
  if (values.help) {
    process.stdout.write(USAGE_HELP);
    return EXIT.OK;
  }
  const api = remoteClient(values);
  const [me, usage] = await Promise.all([api.json<Me>('GET', '/api/me'), api.json<Usage>('GET', '/api/usage')]);
  if (values.json) {
    console.log(JSON.stringify({ plan: me.plan, account: me.usage, usage }, null, 2));
    return EXIT.OK;
  }
  const tokens = me.usage.usedTokens + me.usage.reservedTokens;
  const limit = me.plan.monthlyTokenLimit;
  console.log(`${me.plan.name} plan, ${usage.month}`);
  console.log(`  tokens    ${textBar(tokens, limit)}  ${fmtTokens(tokens)} / ${limit == null ? 'unlimited' : fmtTokens(limit)}`);
  console.log(`  projects  ${textBar(me.usage.projects, me.plan.maxProjects)}  ${me.usage.projects} / ${me.plan.maxProjects ?? 'unlimited'}`);
  console.log(`  concurrent runs: up to ${me.plan.maxConcurrentRuns ?? 'unlimited'}`);
  console.log(`  cost this month: ${fmtCost(usage.costMicroUsd)}`);
  if (usage.estimatedCalls > 0) console.log(`  estimated: ${usage.estimatedCalls} calls whose provider reported no usage were counted with a tokenizer`);
  if (usage.byModel.length > 0) {
    console.log('');
    console.log(table([['PROVIDER', 'MODEL', 'CALLS', 'INPUT', 'OUTPUT', 'COST'], ...usage.byModel.map((m) => [m.provider, m.model, String(m.calls), fmtTokens(m.inputTokens), fmtTokens(m.outputTokens), fmtCost(m.costMicroUsd)])]));
  }
  return EXIT.OK;
}
