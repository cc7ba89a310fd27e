// A conversation's details: its members (add, remove), title, retention, my notification level,
// and leaving. Group admins (and the owning hospital's admins) manage; everyone sets their own
// notifications and may leave a group.

import { useState } from "react";
import { ApiError } from "../../api";
import { notifyLevelValues } from "../../api/schema";
import { session } from "../../session";
import { useSession } from "../../hooks";
import { useI18n } from "../../i18n/i18n";
import type { MessageKey } from "../../i18n/catalog";
import { useDirectory } from "../../cooperation/useDirectory";
import { asPerson } from "../../cooperation/api";
import { otherOrgName } from "../../state/orgLabel";
import type { Person, Uuid } from "../../types";
import { Avatar, Icon, conversationTitle } from "../common";
import { Sheet } from "../Sheet";

type Confirm = { kind: "remove"; user: Uuid } | { kind: "leave" } | null;

export function GroupInfo({ id, onClose, onLeft }: { id: Uuid; onClose: () => void; onLeft: () => void }) {
  const state = useSession();
  const { t } = useI18n();
  const conv = state.conversations.find((c) => c.id === id);
  const chat = state.chats[id];
  const me = state.me!;
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const [confirm, setConfirm] = useState<Confirm>(null);
  const [adding, setAdding] = useState(false);
  if (!conv) return null;
  const group = conv.kind === "group";
  const isOrgAdmin = conv.org_id === me.organization.id && (me.user.roles.includes("org_admin") || me.user.roles.includes("server_admin"));
  const canManage = group && (conv.my_role === "admin" || isOrgAdmin);
  const orgMax = me.organization.policy.retention_days;
  const maxDays = Math.min(conv.retention_days ?? orgMax, orgMax);
  const name = (u: Uuid) => state.users[u]?.display_name ?? t("chat.unknownUser");

  const run = async (action: () => Promise<unknown>) => {
    setError("");
    setBusy(true);
    try {
      await action();
      return true;
    } catch (e) {
      setError(e instanceof ApiError && e.status === 403 ? t("chatx.notAllowed") : t("common.error"));
      return false;
    } finally {
      setBusy(false);
    }
  };

  return (
    <Sheet titleId="info-title" title={group ? t("chatx.groupInfo") : t("chatx.info")} onClose={onClose} className="group-info">
      <div className="info-scroll">
        {group ? (
          <TitleSection key={conv.title} current={conversationTitle(conv, state, "")} canEdit={canManage} busy={busy} onSave={(title) => run(() => session.groups.rename(id, title))} />
        ) : null}

        <section className="info-section" aria-labelledby="notify-title">
          <h3 id="notify-title">{t("chatx.notifyTitle")}</h3>
          <div className="notify-options" role="radiogroup" aria-labelledby="notify-title">
            {notifyLevelValues.map((level) => (
              <label key={level} className={`notify-option ${(conv.notify ?? "all") === level ? "on" : ""}`}>
                <input
                  type="radio"
                  name="notify"
                  value={level}
                  checked={(conv.notify ?? "all") === level}
                  onChange={() => void run(() => session.groups.setNotify(id, level))}
                />
                <span>{t(`chatx.notify.${level}` as MessageKey)}</span>
              </label>
            ))}
          </div>
          <p className="info-hint">{t("chatx.notifyHint")}</p>
        </section>

        {group && (
          <RetentionSection
            key={conv.retention_days ?? "org"}
            current={conv.retention_days ?? null}
            orgDays={orgMax}
            maxDays={maxDays}
            canEdit={canManage}
            busy={busy}
            onSave={(days) => run(() => session.groups.setRetention(id, days))}
          />
        )}

        <section className="info-section" aria-labelledby="members-title">
          <h3 id="members-title">
            {t("chatx.membersTitle")} <span className="sheet-count">{chat?.members.length ?? conv.member_count}</span>
          </h3>
          {canManage && !adding && (
            <button type="button" className="secondary add-member" onClick={() => setAdding(true)}>
              <Icon name="plus" /> {t("chatx.addMember")}
            </button>
          )}
          {canManage && adding && (
            <AddMember
              members={chat?.members ?? []}
              busy={busy}
              onAdd={(u) => void run(() => session.groups.addMember(id, u))}
              onDone={() => setAdding(false)}
            />
          )}
          <ul className="people member-list" aria-labelledby="members-title">
            {(chat?.members ?? []).map((u) => {
              const user = state.users[u];
              const org = otherOrgName(user, me.organization.id);
              return (
                <li key={u} className="person">
                  <Avatar name={name(u)} id={u} size={40} />
                  <span className="person-main">
                    <span className="person-name">
                      {name(u)}
                      {u === me.user.id && <span className="me-tag"> {t("chatx.you")}</span>}
                      {chat?.roles[u] === "admin" && group && <span className="role-tag">{t("chatx.admin")}</span>}
                    </span>
                    <span className="person-sub">
                      {user ? t(`profession.${user.profession}` as MessageKey) : ""}
                      {org ? ` · ${org}` : ""}
                    </span>
                  </span>
                  {canManage && u !== me.user.id && (
                    <button type="button" className="secondary danger small" aria-label={t("chatx.removeWho", { name: name(u) })} onClick={() => setConfirm({ kind: "remove", user: u })}>
                      {t("chatx.remove")}
                    </button>
                  )}
                </li>
              );
            })}
          </ul>
        </section>

        {group && conv.my_role !== null && (
          <section className="info-section">
            <button type="button" className="secondary danger leave" onClick={() => setConfirm({ kind: "leave" })}>
              {t("chatx.leave")}
            </button>
          </section>
        )}
        <p className="form-error" role="alert">
          {error}
        </p>
      </div>
      {confirm && (
        <div className="confirm info-confirm" role="alertdialog" aria-labelledby="confirm-title">
          <h2 id="confirm-title">{confirm.kind === "leave" ? t("chatx.leaveTitle") : t("chatx.removeTitle", { name: name(confirm.user) })}</h2>
          <p>{confirm.kind === "leave" ? t("chatx.leaveHint") : t("chatx.removeHint")}</p>
          <div className="confirm-actions">
            <button type="button" className="secondary" onClick={() => setConfirm(null)}>
              {t("common.cancel")}
            </button>
            <button
              type="button"
              className="primary danger"
              disabled={busy}
              onClick={async () => {
                const c = confirm;
                setConfirm(null);
                if (c.kind === "leave") {
                  if (await run(() => session.groups.leave(id))) {
                    onClose();
                    onLeft();
                  }
                } else await run(() => session.groups.removeMember(id, c.user));
              }}
            >
              {confirm.kind === "leave" ? t("chatx.leave") : t("chatx.remove")}
            </button>
          </div>
        </div>
      )}
    </Sheet>
  );
}

function TitleSection(props: { current: string; canEdit: boolean; busy: boolean; onSave: (title: string) => Promise<boolean> }) {
  const { t } = useI18n();
  const [title, setTitle] = useState(props.current);
  if (!props.canEdit)
    return (
      <section className="info-section">
        <h3>{t("chatx.groupName")}</h3>
        <p className="info-value">{props.current}</p>
      </section>
    );
  const changed = title.trim() !== "" && title.trim() !== props.current;
  return (
    <form
      className="info-section"
      onSubmit={(e) => {
        e.preventDefault();
        if (changed) void props.onSave(title.trim());
      }}
    >
      <label htmlFor="group-name">
        <h3>{t("chatx.groupName")}</h3>
      </label>
      <div className="info-row">
        <input id="group-name" value={title} maxLength={100} onChange={(e) => setTitle(e.target.value)} />
        <button type="submit" className="primary" disabled={!changed || props.busy}>
          {t("chatx.save")}
        </button>
      </div>
    </form>
  );
}

function RetentionSection(props: {
  current: number | null;
  orgDays: number;
  maxDays: number;
  canEdit: boolean;
  busy: boolean;
  onSave: (days: number) => Promise<boolean>;
}) {
  const { t } = useI18n();
  const [days, setDays] = useState(String(props.current ?? props.orgDays));
  const n = Number(days);
  const valid = Number.isInteger(n) && n >= 1 && n <= props.maxDays;
  const label = props.current === null ? t("chatx.retentionOrg", { n: props.orgDays }) : t("chatx.retentionDays", { n: props.current });
  return (
    <form
      className="info-section"
      onSubmit={(e) => {
        e.preventDefault();
        if (valid && n !== props.current) void props.onSave(n);
      }}
    >
      <label htmlFor="retention">
        <h3>{t("chatx.retention")}</h3>
      </label>
      {props.canEdit ? (
        <div className="info-row">
          <input id="retention" type="number" inputMode="numeric" min={1} max={props.maxDays} value={days} onChange={(e) => setDays(e.target.value)} aria-describedby="retention-hint" />
          <span className="unit">{t("chatx.daysUnit")}</span>
          <button type="submit" className="primary" disabled={!valid || n === props.current || props.busy}>
            {t("chatx.save")}
          </button>
        </div>
      ) : (
        <p className="info-value">{label}</p>
      )}
      <p className="info-hint" id="retention-hint">
        {t("chatx.retentionHint", { n: props.maxDays })}
      </p>
    </form>
  );
}

function AddMember({ members, busy, onAdd, onDone }: { members: Uuid[]; busy: boolean; onAdd: (u: Person) => void; onDone: () => void }) {
  const { t } = useI18n();
  const [query, setQuery] = useState("");
  const found = useDirectory(query);
  const candidates = found.items.filter((u) => !members.includes(u.id)).slice(0, 8);
  return (
    <div className="add-member-box">
      <div className="search">
        <Icon name="search" />
        <input type="search" autoFocus aria-label={t("chatx.addSearch")} placeholder={t("chatx.addSearch")} value={query} onChange={(e) => setQuery(e.target.value)} />
        <button type="button" className="link-button" onClick={onDone}>
          {t("chatx.done")}
        </button>
      </div>
      <ul className="people" aria-label={t("chatx.addMember")}>
        {candidates.map((u) => (
          <li key={u.id} className="person">
            <Avatar name={u.display_name} id={u.id} size={36} />
            <span className="person-main">
              <span className="person-name">{u.display_name}</span>
              <span className="person-sub">
                {u.kana} · {u.org_name}
              </span>
            </span>
            <button type="button" className="secondary small" disabled={busy} aria-label={t("chatx.addWho", { name: u.display_name })} onClick={() => onAdd(asPerson(u))}>
              {t("chatx.add")}
            </button>
          </li>
        ))}
        {query && candidates.length === 0 && !found.loading && <li className="list-empty">{t("coop.none")}</li>}
      </ul>
    </div>
  );
}
