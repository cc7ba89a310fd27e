// Sign-in holds: who is slowed down after wrong passwords or locked after wrong passcodes or
// codes, with a release (audited on the server). Their open sessions are never ended by it.

import { useCallback, useEffect, useState } from "react";
import { useI18n } from "../i18n/i18n";
import type { Uuid } from "../types";
import { call, type Reply } from "./api";
import { ReplyError } from "./parts";

export interface SignInHold {
  user_id: Uuid;
  login: string;
  display_name: string;
  failures: number;
  wait_until: string | null;
  locked_until: string | null;
}

/** The organization's holds, reloaded on demand. */
export function useSignInHolds(orgId: Uuid) {
  const [holds, setHolds] = useState<SignInHold[]>([]);
  const [failed, setFailed] = useState<Reply | null>(null);
  const reload = useCallback(async () => {
    const r = await call("GET", `/api/v1/orgs/${orgId}/sign-in-holds`);
    if (r.status === 200) setHolds(r.body);
    else setFailed(r);
  }, [orgId]);
  useEffect(() => void reload(), [reload]);
  return { holds, failed, reload };
}

/** The badge of a user with a hold: locked, or slowed down. */
export function HoldBadge({ hold }: { hold: SignInHold | undefined }) {
  const { t } = useI18n();
  if (!hold || (!hold.locked_until && !hold.wait_until)) return null;
  return (
    <span className="badge hold" data-hold={hold.login}>
      {hold.locked_until ? t("admin.holds.badgeLocked") : t("admin.holds.badgeDelayed")}
    </span>
  );
}

/** The list of holds with a release button each. */
export function SignInHoldsPanel({ holds, failed, onChanged }: { holds: SignInHold[]; failed: Reply | null; onChanged: () => void }) {
  const { t, time } = useI18n();
  const [reply, setReply] = useState<Reply | null>(null);
  const [released, setReleased] = useState<string | null>(null);

  async function release(h: SignInHold) {
    setReply(null);
    const r = await call("POST", `/api/v1/users/${h.user_id}/sign-in-release`, {});
    if (r.status !== 204) return setReply(r);
    setReleased(h.display_name);
    onChanged();
  }

  return (
    <section className="admin-holds" aria-labelledby="holds-title">
      <h3 id="holds-title">{t("admin.holds.title")}</h3>
      <ReplyError reply={failed ?? reply} />
      {released && (
        <p className="admin-ok" role="status">
          {t("admin.holds.released", { name: released })}
        </p>
      )}
      {holds.length === 0 ? (
        <p className="admin-muted">{t("admin.holds.none")}</p>
      ) : (
        <ul>
          {holds.map((h) => (
            <li key={h.user_id} data-login={h.login}>
              <div>
                <strong>{h.display_name}</strong> <HoldBadge hold={h} />
                <small>
                  {[
                    h.failures > 0 ? t("admin.holds.failures", { n: h.failures }) : "",
                    h.wait_until ? t("admin.holds.waitUntil", { time: time(h.wait_until) }) : "",
                    h.locked_until ? t("admin.holds.lockedUntil", { time: time(h.locked_until) }) : "",
                  ]
                    .filter(Boolean)
                    .join(" · ")}
                </small>
              </div>
              <button type="button" className="secondary small" onClick={() => void release(h)}>
                {t("admin.holds.release")}
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
