// Pieces shared by the admin screens: an error line, a both-versions table, a bar chart.

import { useI18n } from "../i18n/i18n";
import type { MessageKey } from "../i18n/catalog";
import type { Reply } from "./api";

/** The server's refusal in words: a known code's translation, else its own message. */
export function ReplyError({ reply }: { reply: Reply | null }) {
  const { t } = useI18n();
  if (!reply || (reply.status >= 200 && reply.status < 300)) return null;
  const code: string = reply.body?.code ?? `http_${reply.status}`;
  const key = `admin.error.${code}` as MessageKey;
  const known = t(key) !== key;
  return (
    <p className="admin-error" role="alert">
      {reply.status === 0 ? t("common.networkError") : known ? t(key) : `${reply.body?.message ?? t("common.error")} (${code})`}
    </p>
  );
}

export interface VersionRow {
  label: string;
  mine: string;
  theirs: string;
}

/** Two versions of a record side by side: what I was saving and what is saved now. */
export function BothVersions({ rows, onKeepMine, onUseTheirs }: { rows: VersionRow[]; onKeepMine: () => void; onUseTheirs: () => void }) {
  const { t } = useI18n();
  return (
    <section className="admin-conflict" role="alert" aria-label={t("admin.conflict.title")}>
      <h3>{t("admin.conflict.title")}</h3>
      <p>{t("admin.conflict.intro")}</p>
      <table className="admin-table">
        <thead>
          <tr>
            <th scope="col">{t("admin.conflict.field")}</th>
            <th scope="col">{t("admin.conflict.mine")}</th>
            <th scope="col">{t("admin.conflict.theirs")}</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.label} className={r.mine !== r.theirs ? "differs" : undefined}>
              <th scope="row">{r.label}</th>
              <td>{r.mine || "—"}</td>
              <td>{r.theirs || "—"}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <div className="admin-actions">
        <button type="button" className="primary" onClick={onKeepMine}>
          {t("admin.conflict.keepMine")}
        </button>
        <button type="button" className="secondary" onClick={onUseTheirs}>
          {t("admin.conflict.useTheirs")}
        </button>
      </div>
    </section>
  );
}

/** A simple SVG bar chart (no library): one bar per label, the value above it. */
export function BarChart({ title, bars }: { title: string; bars: { label: string; value: number }[] }) {
  const width = Math.max(240, bars.length * 44);
  const height = 160;
  const top = Math.max(1, ...bars.map((b) => b.value));
  const slot = width / Math.max(1, bars.length);
  const summary = bars.map((b) => `${b.label}: ${b.value}`).join(", ");
  return (
    <figure className="admin-chart">
      <figcaption>{title}</figcaption>
      <svg viewBox={`0 0 ${width} ${height + 34}`} role="img" aria-label={`${title}: ${summary}`} preserveAspectRatio="xMinYMin meet">
        <line x1="0" y1={height} x2={width} y2={height} stroke="#c5ced6" />
        {bars.map((b, i) => {
          const h = Math.round((b.value / top) * (height - 18));
          const x = i * slot + slot * 0.18;
          return (
            <g key={b.label}>
              <rect x={x} y={height - h} width={slot * 0.64} height={h} rx="3" fill="#0b5c63" />
              <text x={x + slot * 0.32} y={height - h - 4} textAnchor="middle" fontSize="11" fill="#17212b">
                {b.value}
              </text>
              <text x={x + slot * 0.32} y={height + 16} textAnchor="middle" fontSize="10" fill="#5b6773">
                {b.label}
              </text>
            </g>
          );
        })}
      </svg>
    </figure>
  );
}

/** Today minus `days`, as YYYY-MM-DD (UTC, like the server's statistics). */
export function utcDay(daysAgo = 0): string {
  return new Date(Date.now() - daysAgo * 86_400_000).toISOString().slice(0, 10);
}
