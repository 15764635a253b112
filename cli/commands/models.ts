import { parseArgs } from 'node:util';
import type { CatalogueModel, ModelCatalogue, ModelPrices } from '../../protocol/model-catalogue.js';
import { PROVIDERS } from '../../protocol/providers.js';
import { CliError, EXIT, type ExitCode } from '../exit-codes.js';
import { fmtTokens, table } from '../format.js';
import { REMOTE_HELP, REMOTE_OPTIONS, remoteClient } from '../remote.js';

export const MODELS_HELP = `samokoder models [--provider P]

The models you are offered, by provider: context window, output limit, prices in USD per million
tokens (input / cached input / output), tool calling, and the roles each is recommended for. Your
keys' providers add the models they list for you (samokoder keys add --validate).

  --provider P     only this provider (${PROVIDERS.join(', ')})

${REMOTE_HELP}`;

const usd = (n: number): string => `$${n < 1 ? String(Number(n.toFixed(4))) : n.toFixed(2)}`;

function fmtPrices(p: ModelPrices | null): string {
  if (!p) return '—';
  return `${usd(p.input)} / ${p.cachedInput === null ? '—' : usd(p.cachedInput)} / ${usd(p.output)}`;
}

function fmtRecommended(m: CatalogueModel): string {
  return Object.entries(m.recommended).map(([role, tier]) => `${role}:${tier}`).join(' ');
}

export async function modelsCommand(argv: string[]): Promise<ExitCode> {
  const { values } = parseArgs({ args: argv, options: { ...REMOTE_OPTIONS, provider: { type: 'string' } } });
  if (values.help) {
    process.stdout.write(MODELS_HELP);
    return EXIT.OK;
  }
  const provider = values.provider;
  if (provider !== undefined && !(PROVIDERS as readonly string[]).includes(provider)) {
    throw new CliError(`unknown provider "${provider}": use one of ${PROVIDERS.join(', ')}.`, EXIT.BAD_INPUT);
  }
  const api = remoteClient(values);
  const catalogue = await api.json<ModelCatalogue>('GET', `/api/models${provider ? `?provider=${encodeURIComponent(provider)}` : ''}`);
  if (values.json) {
    console.log(JSON.stringify(catalogue, null, 2));
    return EXIT.OK;
  }
  const rows = catalogue.providers.flatMap((p) =>
    p.models.map((m) => [
      p.id,
      m.id,
      m.contextWindow === null ? '—' : fmtTokens(m.contextWindow),
      m.maxOutputTokens === null ? '—' : fmtTokens(m.maxOutputTokens),
      fmtPrices(m.prices),
      m.toolCalling === null ? '?' : m.toolCalling ? 'yes' : 'no',
      fmtRecommended(m),
    ]),
  );
  if (rows.length === 0) console.log(`no models offered${provider ? ` for ${provider}` : ''}`);
  else console.log(table([['PROVIDER', 'MODEL', 'CONTEXT', 'OUTPUT', 'USD/M IN / CACHED / OUT', 'TOOLS', 'RECOMMENDED'], ...rows]));
  if (catalogue.catalogueDate) console.log(`\nprices as of ${catalogue.catalogueDate} unless your operator changed them`);
  return EXIT.OK;
}
