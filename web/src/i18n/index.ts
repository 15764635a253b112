// The web UI's languages (English, Russian, Ukrainian) through i18next. Each page or feature keeps
// its strings in its own namespace file, locales/<locale>/<namespace>.json, found at build time by
// Vite's glob import: a feature adds its catalogue files without touching anyone else's.
// Plural rules and number/date formats come from the browser's Intl for the chosen locale.
/// <reference types="vite/client" />
import i18next from 'i18next';
import { useEffect, useState } from 'preact/hooks';

export const LOCALES = ['en', 'ru', 'uk'] as const;
export type Locale = (typeof LOCALES)[number];
export const LOCALE_NAMES: Record<Locale, string> = { en: 'English', ru: 'Русский', uk: 'Українська' };

const STORAGE_KEY = 'samokoder.locale';

type Catalogue = Record<string, unknown>;
const files = import.meta.glob<Catalogue>('./locales/*/*.json', { eager: true, import: 'default' });
const resources: Record<string, Record<string, Catalogue>> = {};
for (const [file, catalogue] of Object.entries(files)) {
  const m = /\/locales\/([a-z]+)\/([\w-]+)\.json$/.exec(file);
  if (!m) continue;
  (resources[m[1]!] ??= {})[m[2]!] = catalogue;
}

function isLocale(v: string | null | undefined): v is Locale {
  return !!v && (LOCALES as readonly string[]).includes(v);
}

/** The remembered choice, else the browser's first language we have, else English. */
function initialLocale(): Locale {
  const saved = safeStorage()?.getItem(STORAGE_KEY);
  if (isLocale(saved)) return saved;
  for (const tag of navigator.languages ?? [navigator.language]) {
    const base = tag.toLowerCase().split('-')[0];
    if (isLocale(base)) return base;
  }
  return 'en';
}

function safeStorage(): Storage | undefined {
  try {
    return window.localStorage;
  } catch {
    return undefined; // storage disabled: the choice lasts for this page only
  }
}

/** Keys looked up but absent from the current locale's catalogue (the locale test reads these). */
export const missingKeys = new Set<string>();

void i18next.init({
  resources,
  lng: initialLocale(),
  fallbackLng: 'en',
  defaultNS: 'common',
  ns: Object.keys(resources.en ?? {}),
  interpolation: { escapeValue: false }, // Preact escapes text itself
  saveMissing: true,
  missingKeyHandler: (lngs, ns, key) => void missingKeys.add(`${lngs.join(',')}:${ns}:${key}`),
  initAsync: false,
});
document.documentElement.lang = i18next.language;
(window as unknown as { __samokoderMissingKeys?: Set<string> }).__samokoderMissingKeys = missingKeys;

export function currentLocale(): Locale {
  return isLocale(i18next.language) ? i18next.language : 'en';
}

export function setLocale(locale: Locale): void {
  safeStorage()?.setItem(STORAGE_KEY, locale);
  document.documentElement.lang = locale;
  void i18next.changeLanguage(locale);
}

export type T = (key: string, vars?: Record<string, unknown>) => string;

/** A translator for one namespace that re-renders its component when the language changes. */
export function useT(ns: string): T {
  const [, setTick] = useState(0);
  useEffect(() => {
    const changed = () => setTick((n) => n + 1);
    i18next.on('languageChanged', changed);
    return () => i18next.off('languageChanged', changed);
  }, []);
  return (key, vars) => i18next.t(key, { ns, ...vars }) as string;
}

export function formatNumber(n: number, options?: Intl.NumberFormatOptions): string {
  return new Intl.NumberFormat(currentLocale(), options).format(n);
}

export function formatDate(d: Date | string | number, options?: Intl.DateTimeFormatOptions): string {
  return new Intl.DateTimeFormat(currentLocale(), options ?? { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(d));
}
