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

/** A simple SVG bar chart (no library): one bar per label, its value above it. Drawn at
 * its natural size (readable text) and scrolled sideways when wider than its card. */
export function BarChart({ title, bars }: { title: string; bars: { label: string; value: number }[] }) {
  const longest = Math.max(2, ...bars.map((b) => b.label.length));
  const slot = Math.min(120, Math.max(25, longest * 7 + 10));
  const width = Math.max(200, bars.length * slot);
  const height = 150;
  const top = Math.max(1, ...bars.map((b) => b.value));
  const summary = bars.map((b) => `${b.label}: ${b.value}`).join(", ");
  return (
    <figure className="admin-chart">
      <figcaption>{title}</figcaption>
      <div className="admin-chart-scroll">
        <svg width={width} height={height + 24} viewBox={`0 0 ${width} ${height + 24}`} role="img" aria-label={`${title}: ${summary}`}>
          <line x1="0" y1={height} x2={width} y2={height} stroke="#c5ced6" />
          {bars.map((b, i) => {
            const h = Math.round((b.value / top) * (height - 20));
            const x = i * slot + slot * 0.15;
            const mid = x + slot * 0.35;
            return (
              <g key={`${i}-${b.label}`}>
                <rect x={x} y={height - h} width={slot * 0.7} height={h} rx="3" fill="#0b5c63" />
                {b.value > 0 && (
                  <text x={mid} y={height - h - 5} textAnchor="middle" fontSize="12" fill="#17212b">
                    {b.value}
                  </text>
                )}
                <text x={mid} y={height + 16} textAnchor="middle" fontSize="11" fill="#5b6773">
                  {b.label}
                </text>
              </g>
            );
          })}
        </svg>
      </div>
    </figure>
  );
}

/** Today minus `days`, as YYYY-MM-DD (UTC; the server's statistics days may begin at another
 * hour, so leave `to` out to mean the server's today). */
export function utcDay(daysAgo = 0): string {
  return new Date(Date.now() - daysAgo * 86_400_000).toISOString().slice(0, 10);
}
