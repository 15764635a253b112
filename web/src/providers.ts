import i18next from 'i18next';
import { PROVIDERS, type ProviderId } from '../../protocol/providers.js';

export { PROVIDERS };
export type Provider = ProviderId;

/** The provider's display name in the reader's language (catalogue: common, providers.*). */
export const providerName = (p: string): string => i18next.t(`providers.${p}`, { ns: 'common', defaultValue: p });

export const isProvider = (p: string): p is Provider => (PROVIDERS as readonly string[]).includes(p);
