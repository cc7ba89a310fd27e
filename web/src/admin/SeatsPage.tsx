// Seats: active users today (and the day's peak), by profession, and over the last 30 days.

import { useEffect, useState } from "react";
import { useI18n } from "../i18n/i18n";
import type { MessageKey } from "../i18n/catalog";
import type { Uuid } from "../types";
import { call, type Reply } from "./api";
import { BarChart, ReplyError } from "./parts";

interface SeatDay {
  day: string;
  active: number;
  peak: number;
  by_profession: Record<string, number>;
}

export function SeatsPage({ orgId }: { orgId: Uuid }) {
  const { t } = useI18n();
  const [seats, setSeats] = useState<{ today: SeatDay | null; days: SeatDay[] } | null>(null);
  const [reply, setReply] = useState<Reply | null>(null);
  useEffect(() => {
    // The server's default: the 30 statistics days ending today (its day, which may start at
    // a different hour than the browser's).
    void call("GET", `/api/v1/orgs/${orgId}/seats`).then((r) => (r.status === 200 ? setSeats(r.body) : setReply(r)));
  }, [orgId]);
  if (!seats) return <ReplyError reply={reply} />;
  const today = seats.today;
  return (
    <section aria-labelledby="seats-title">
      <h2 id="seats-title">{t("admin.tab.seats")}</h2>
      <div className="admin-figures">
        <div>
          <strong>{today?.active ?? 0}</strong>
          <span>{t("admin.seats.active")}</span>
        </div>
        <div>
          <strong>{today?.peak ?? 0}</strong>
          <span>{t("admin.seats.peak")}</span>
        </div>
      </div>
      <BarChart
        title={t("admin.seats.byProfession")}
        bars={Object.entries(today?.by_profession ?? {}).map(([p, n]) => ({ label: t(`profession.${p}` as MessageKey), value: n }))}
      />
      <BarChart title={t("admin.seats.history")} bars={seats.days.map((d) => ({ label: d.day.slice(5), value: d.active }))} />
    </section>
  );
}
