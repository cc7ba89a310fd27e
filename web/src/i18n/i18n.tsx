// The interface language: from the browser, switchable, remembered in localStorage (with the
// passcode prompt's "later", state/passcodeLater.ts, and the notification banner's "not now",
// screens/Home.tsx, the only things the client stores). Dates and times follow the language and the device's time zone.

import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from "react";
import { catalogs, type Lang, type MessageKey } from "./catalog";

const STORAGE_KEY = "renkei.lang";

export function detectLang(stored: string | null, browser: readonly string[]): Lang {
  if (stored === "ja" || stored === "en") return stored;
  for (const tag of browser) {
    const base = tag.toLowerCase().split("-")[0];
    if (base === "ja" || base === "en") return base;
  }
  return "en";
}

export function translate(lang: Lang, key: MessageKey, vars?: Record<string, string | number>): string {
  const text: string = catalogs[lang][key] ?? catalogs.en[key] ?? key;
  if (!vars) return text;
  return text.replace(/\{(\w+)\}/g, (_, name: string) => String(vars[name] ?? `{${name}}`));
}

export interface I18n {
  lang: Lang;
  setLang: (lang: Lang) => void;
  t: (key: MessageKey, vars?: Record<string, string | number>) => string;
  /** 14:05 today, "Yesterday", weekday this week, else a short date. */
  shortTime: (iso: string) => string;
  time: (iso: string) => string;
  day: (iso: string) => string;
}

const Ctx = createContext<I18n | null>(null);

function readStored(): string | null {
  try {
    return localStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

export function I18nProvider({ children }: { children: ReactNode }) {
  const [lang, setLangState] = useState<Lang>(() => detectLang(readStored(), navigator.languages ?? [navigator.language]));
  const setLang = useCallback((next: Lang) => {
    try {
      localStorage.setItem(STORAGE_KEY, next);
    } catch {
      /* private mode: not remembered */
    }
    setLangState(next);
  }, []);
  const value = useMemo<I18n>(() => {
    const locale = lang === "ja" ? "ja-JP" : undefined;
    const timeFmt = new Intl.DateTimeFormat(locale ?? navigator.language, { hour: "numeric", minute: "2-digit" });
    const dateFmt = new Intl.DateTimeFormat(locale ?? navigator.language, { month: "short", day: "numeric" });
    const weekdayFmt = new Intl.DateTimeFormat(locale ?? navigator.language, { weekday: "short" });
    const dayFmt = new Intl.DateTimeFormat(locale ?? navigator.language, {
      year: "numeric",
      month: "long",
      day: "numeric",
      weekday: "short",
    });
    const t = (key: MessageKey, vars?: Record<string, string | number>) => translate(lang, key, vars);
    return {
      lang,
      setLang,
      t,
      time: (iso) => timeFmt.format(new Date(iso)),
      day: (iso) => {
        const d = new Date(iso);
        const diff = dayDiff(d, new Date());
        if (diff === 0) return t("chat.today");
        if (diff === 1) return t("chat.yesterday");
        return dayFmt.format(d);
      },
      shortTime: (iso) => {
        const d = new Date(iso);
        const diff = dayDiff(d, new Date());
        if (diff === 0) return timeFmt.format(d);
        if (diff === 1) return t("chat.yesterday");
        if (diff < 7) return weekdayFmt.format(d);
        return dateFmt.format(d);
      },
    };
  }, [lang, setLang]);
  document.documentElement.lang = lang;
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}

/** Whole calendar days between two dates, in the local time zone. */
export function dayDiff(a: Date, b: Date): number {
  const start = (d: Date) => new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
  return Math.round((start(b) - start(a)) / 86_400_000);
}

export function useI18n(): I18n {
  const ctx = useContext(Ctx);
  if (!ctx) throw new Error("I18nProvider missing");
  return ctx;
}
