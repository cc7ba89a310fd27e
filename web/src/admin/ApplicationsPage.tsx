// Applications: the invite link staff use to apply, and the queue to approve or reject.

import { useCallback, useEffect, useState } from "react";
import { useI18n } from "../i18n/i18n";
import type { MessageKey } from "../i18n/catalog";
import type { Uuid } from "../types";
import { call, type AdminUser, type Reply } from "./api";
import { ReplyError } from "./parts";

export function ApplicationsPage({ orgId }: { orgId: Uuid }) {
  const { t, day } = useI18n();
  const [path, setPath] = useState<string | null>(null);
  const [pending, setPending] = useState<AdminUser[]>([]);
  const [reply, setReply] = useState<Reply | null>(null);

  const load = useCallback(async () => {
    const [invite, queue] = await Promise.all([
      call("GET", `/api/v1/orgs/${orgId}/invite`),
      call("GET", `/api/v1/orgs/${orgId}/applications`),
    ]);
    if (invite.status === 200) setPath(invite.body.path);
    if (queue.status === 200) setPending(queue.body);
    else setReply(queue);
  }, [orgId]);
  useEffect(() => void load(), [load]);

  async function rotate() {
    const r = await call("POST", `/api/v1/orgs/${orgId}/invite`, {});
    if (r.status === 201) setPath(r.body.path);
    else setReply(r);
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
        ) : (
          <p>{t("admin.invite.none")}</p>
        )}
        <div className="admin-actions">
          {link && (
            <button type="button" className="secondary" onClick={() => void navigator.clipboard?.writeText(link)}>
              {t("admin.invite.copy")}
            </button>
          )}
          <button type="button" className="primary" onClick={() => void rotate()}>
            {link ? t("admin.invite.rotate") : t("admin.invite.create")}
          </button>
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
