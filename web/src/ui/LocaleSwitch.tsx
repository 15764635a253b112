import { currentLocale, LOCALE_NAMES, LOCALES, setLocale, useT, type Locale } from '../i18n/index.js';

/** The language picker in the top bar; the choice is remembered in this browser. */
export function LocaleSwitch() {
  const t = useT('common');
  return (
    <select aria-label={t('language')} value={currentLocale()} onChange={(e) => setLocale(e.currentTarget.value as Locale)}>
      {LOCALES.map((l) => (
        <option value={l} lang={l}>
          {LOCALE_NAMES[l]}
        </option>
      ))}
    </select>
  );
}
