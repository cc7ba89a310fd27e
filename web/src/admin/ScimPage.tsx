// Provisioning (SCIM 2.0): the tenant URL an identity provider is given, and the token it
// uses — created or replaced (shown once), revoked — with when it was last used.

import { useCallback, useEffect, useState } from "react";
import { useI18n } from "../i18n/i18n";
import type { components } from "../api/schema";
import type { Uuid } from "../types";
import { call, type Reply } from "./api";
import { ReplyError } from "./parts";

type ScimSetup = components["schemas"]["ScimSetup"];

export function ScimPage({ orgId }: { orgId: Uuid }) {
  const { t, day, time } = useI18n();
  const [setup, setSetup] = useState<ScimSetup | null>(null);
  const [token, setToken] = useState<string | null>(null);
  const [confirmRevoke, setConfirmRevoke] = useState(false);
  const [revoked, setRevoked] = useState(false);
  const [reply, setReply] = useState<Reply | null>(null);
  const when = (iso: string) => `${day(iso)} ${time(iso)}`;

  const load = useCallback(async () => {
    const r = await call("GET", `/api/v1/orgs/${orgId}/scim`);
    if (r.status === 200) setSetup(r.body);
    else setReply(r);
  }, [orgId]);
  useEffect(() => void load(), [load]);

  async function rotate() {
    setReply(null);
    const r = await call("POST", `/api/v1/orgs/${orgId}/scim/token`, {});
    if (r.status !== 201) return setReply(r);
    const { token, ...rest } = r.body;
    setSetup(rest);
    setToken(token);
    setRevoked(false);
  }
  async function revoke() {
    setConfirmRevoke(false);
    const r = await call("DELETE", `/api/v1/orgs/${orgId}/scim/token`);
    if (r.status !== 204) return setReply(r);
    setToken(null);
    setRevoked(true);
    await load();
  }

  const url = setup ? `${location.origin}${setup.path}` : "";
  const active = setup?.status === "active";
  return (
    <section aria-labelledby="scim-title">
      <h2 id="scim-title">{t("admin.tab.scim")}</h2>
      <div className="admin-card">
        <h3>{t("admin.scim.title")}</h3>
        <p>{t("admin.scim.intro")}</p>
        <p>
          <span>{t("admin.scim.tenantUrl")}</span>
          <br />
          <code className="admin-link" aria-label={t("admin.scim.tenantUrl")}>
            {url}
          </code>
        </p>
        {token && (
          <div className="admin-scim-token" role="status">
            <p>
              <span>{t("admin.scim.token")}</span>
              <br />
              <code className="admin-link" aria-label={t("admin.scim.token")}>
                {token}
              </code>
            </p>
            <p className="admin-muted">{t("admin.scim.shownOnce")}</p>
            <button type="button" className="secondary" onClick={() => void navigator.clipboard?.writeText(token)}>
              {t("admin.scim.copy")}
            </button>
          </div>
        )}
        {active && setup?.created_at ? (
          <p>
            {t("admin.scim.active", { date: when(setup.created_at) })}{" "}
            {setup.last_used_at ? t("admin.scim.lastUsed", { date: when(setup.last_used_at) }) : t("admin.scim.neverUsed")}
          </p>
        ) : (
          <p>{revoked ? t("admin.scim.revoked") : t("admin.scim.none")}</p>
        )}
        <div className="admin-actions">
          <button type="button" className="primary" onClick={() => void rotate()}>
            {active ? t("admin.scim.rotate") : t("admin.scim.create")}
          </button>
          {active &&
            (confirmRevoke ? (
              <button type="button" className="primary danger" onClick={() => void revoke()}>
                {t("admin.scim.confirmRevoke")}
              </button>
            ) : (
              <button type="button" className="secondary" onClick={() => setConfirmRevoke(true)}>
                {t("admin.scim.revoke")}
              </button>
            ))}
        </div>
        <p className="admin-muted">{t("admin.scim.notes")}</p>
      </div>
      <ReplyError reply={reply} />
    </section>
  );
}
