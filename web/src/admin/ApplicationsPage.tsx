// Applications: the invite link staff use to apply, and the queue to approve or reject.

import { useCallback, useEffect, useState } from "react";
import { useI18n } from "../i18n/i18n";
import type { MessageKey } from "../i18n/catalog";
import type { Uuid } from "../types";
import { call, type AdminUser, type Reply } from "./api";
import { ReplyError } from "./parts";

interface InviteLink {
  token: string | null;
  path: string | null;
  created_at: string | null;
  expires_at: string | null;
  revoked_at: string | null;
  status: "none" | "active" | "expired" | "revoked";
}

export function ApplicationsPage({ orgId }: { orgId: Uuid }) {
  const { t, day } = useI18n();
  const [path, setPath] = useState<string | null>(null);
  const [invite, setInvite] = useState<InviteLink | null>(null);
  const [days, setDays] = useState(14);
  const [confirmRevoke, setConfirmRevoke] = useState(false);
  const [pending, setPending] = useState<AdminUser[]>([]);
  const [reply, setReply] = useState<Reply | null>(null);

  const load = useCallback(async () => {
    const [invite, queue] = await Promise.all([
      call("GET", `/api/v1/orgs/${orgId}/invite`),
      call("GET", `/api/v1/orgs/${orgId}/applications`),
    ]);
    if (invite.status === 200) {
      setInvite(invite.body);
      setPath(invite.body.status === "active" ? invite.body.path : null);
    }
    if (queue.status === 200) setPending(queue.body);
    else setReply(queue);
  }, [orgId]);
  useEffect(() => void load(), [load]);

  async function rotate() {
    const r = await call("POST", `/api/v1/orgs/${orgId}/invite`, { expires_in_days: days });
    if (r.status === 201) {
      setInvite(r.body);
      setPath(r.body.path);
    } else setReply(r);
  }
  async function revoke() {
    setConfirmRevoke(false);
    const r = await call("DELETE", `/api/v1/orgs/${orgId}/invite`);
    if (r.status !== 200) return setReply(r);
    setInvite(r.body);
    setPath(null);
  }
  async function decide(id: Uuid, verdict: "approve" | "reject") {
    const r = await call("POST", `/api/v1/users/${id}/${verdict}`, {});
    if (r.status !== 200) setReply(r);
    await load();
  }
  const link = path ? `${location.origin}${path}` : null;

  return (
    <section aria-labelledby="apps-title">
      <h2 id="apps-title">{t("admin.tab.applications")}</h2>
      <div className="admin-card">
        <h3>{t("admin.invite.title")}</h3>
        <p>{t("admin.invite.intro")}</p>
        {link ? (
          <p>
            <code className="admin-link" aria-label={t("admin.invite.title")}>
              {link}
            </code>
          </p>
        ) : invite?.status === "expired" && invite.expires_at ? (
          <p className="admin-error">{t("admin.invite.expired", { date: day(invite.expires_at) })}</p>
        ) : invite?.status === "revoked" && invite.revoked_at ? (
          <p className="admin-error">{t("admin.invite.revokedOn", { date: day(invite.revoked_at) })}</p>
        ) : (
          <p>{t("admin.invite.none")}</p>
        )}
        {link && invite?.expires_at && <p>{t("admin.invite.expires", { date: day(invite.expires_at) })}</p>}
        <label className="field admin-invite-days">
          <span>{t("admin.invite.days")}</span>
          <select name="invite-days" value={days} onChange={(e) => setDays(Number(e.target.value))}>
            {[1, 3, 7, 14, 30, 90].map((n) => (
              <option key={n} value={n}>
                {t("admin.invite.daysOption", { n })}
              </option>
            ))}
          </select>
        </label>
        <div className="admin-actions">
          {link && (
            <button type="button" className="secondary" onClick={() => void navigator.clipboard?.writeText(link)}>
              {t("admin.invite.copy")}
            </button>
          )}
          <button type="button" className="primary" onClick={() => void rotate()}>
            {link ? t("admin.invite.rotate") : t("admin.invite.create")}
          </button>
          {link &&
            (confirmRevoke ? (
              <button type="button" className="primary danger" onClick={() => void revoke()}>
                {t("admin.invite.confirmRevoke")}
              </button>
            ) : (
              <button type="button" className="secondary" onClick={() => setConfirmRevoke(true)}>
                {t("admin.invite.revoke")}
              </button>
            ))}
        </div>
      </div>
      <ReplyError reply={reply} />
      <h3>{t("admin.applications.pending", { n: pending.length })}</h3>
      {pending.length === 0 ? (
        <p>{t("admin.applications.none")}</p>
      ) : (
        <table className="admin-table">
          <thead>
            <tr>
              <th scope="col">{t("admin.field.display_name")}</th>
              <th scope="col">{t("admin.field.profession")}</th>
              <th scope="col">{t("admin.field.login")}</th>
              <th scope="col">{t("admin.applications.applied")}</th>
              <th scope="col">
                <span className="visually-hidden">{t("admin.applications.decide")}</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {pending.map((u) => (
              <tr key={u.id}>
                <td>
                  {u.display_name}
                  <small>{[u.kana, u.email].filter(Boolean).join(" · ")}</small>
                </td>
                <td>{t(`profession.${u.profession}` as MessageKey)}</td>
                <td>{u.login}</td>
                <td>{day((u as unknown as { created_at: string }).created_at)}</td>
                <td className="admin-actions">
                  <button type="button" className="primary small" onClick={() => void decide(u.id, "approve")}>
                    {t("admin.applications.approve")}
                  </button>
                  <button type="button" className="secondary small" onClick={() => void decide(u.id, "reject")}>
                    {t("admin.applications.reject")}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
