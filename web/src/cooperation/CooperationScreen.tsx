// The directory (one search box over colleagues here and at partner hospitals) and the
// cooperation pages: agreements with partner hospitals, and regional councils. Loaded lazily.

import { useCallback, useEffect, useState, type FormEvent } from "react";
import { session } from "../session";
import { useSession } from "../hooks";
import { useI18n } from "../i18n/i18n";
import type { MessageKey } from "../i18n/catalog";
import { ApiError } from "../api";
import { Avatar, Icon } from "../screens/common";
import { Sheet } from "../screens/Sheet";
import { rankTag } from "./rankTag";
import { SCOPES, asPerson, coopApi, type Agreement, type Council, type Membership, type OrgSummary, type Scope } from "./api";
import { useDirectory } from "./useDirectory";

type Tab = "directory" | "partners" | "councils";

export default function CooperationScreen({ onClose, onOpen }: { onClose: () => void; onOpen: (id: string) => void }) {
  const { t } = useI18n();
  const [tab, setTab] = useState<Tab>("directory");

  return (
    <Sheet titleId="coop-title" title={t("coop.title")} onClose={onClose} className="coop">
      <div className="coop-tabs" role="tablist">
        {(["directory", "partners", "councils"] as Tab[]).map((name) => (
          <button key={name} type="button" role="tab" aria-selected={tab === name} onClick={() => setTab(name)}>
            {t(`coop.tab.${name}` as MessageKey)}
          </button>
        ))}
      </div>
      <div className="coop-panel" role="tabpanel">
        {tab === "directory" && <DirectoryPanel onOpen={onOpen} />}
        {tab === "partners" && <PartnersPanel />}
        {tab === "councils" && <CouncilsPanel />}
      </div>
    </Sheet>
  );
}

function useAdmin(): boolean {
  const me = useSession().me!;
  return me.user.roles.includes("org_admin") || me.user.roles.includes("server_admin");
}

function useFailure() {
  const { t } = useI18n();
  const [error, setError] = useState("");
  const run = useCallback(
    async (action: () => Promise<unknown>) => {
      setError("");
      try {
        await action();
      } catch (e) {
        setError(t("coop.error", { message: e instanceof ApiError ? e.message : String(e) }));
      }
    },
    [t],
  );
  return { error, run };
}

function DirectoryPanel({ onOpen }: { onOpen: (id: string) => void }) {
  const { t } = useI18n();
  const state = useSession();
  const [query, setQuery] = useState("");
  const found = useDirectory(query);
  const { error, run } = useFailure();
  const me = state.me!;

  return (
    <>
      <div className="search">
        <Icon name="search" />
        <input type="search" autoFocus aria-label={t("coop.search")} placeholder={t("coop.search")} value={query} onChange={(e) => setQuery(e.target.value)} />
      </div>
      <p className="coop-count" aria-live="polite">
        {found.loading ? t("common.loading") : t("coop.results", { n: found.total })}
      </p>
      <ul className="people" aria-label={t("coop.tab.directory")}>
        {found.items.map((u) => (
          <li key={u.id} className="person coop-person">
            <Avatar name={u.display_name} id={u.id} size={40} />
            <span className="person-main">
              <span className="person-name">
                {u.display_name}{" "}
                {rankTag(query, u.rank) && <span className={`coop-rank ${u.rank}`}>{t(`coop.rank.${u.rank}` as MessageKey)}</span>}
              </span>
              <span className="person-sub">
                {u.kana} · {t(`profession.${u.profession}` as MessageKey)}
                {u.department_name ? ` · ${u.department_name}` : ""}
              </span>
              <span className="person-sub coop-org">{u.org_name}</span>
            </span>
            {u.id !== me.user.id && (
              <button
                type="button"
                className="secondary"
                onClick={() =>
                  void run(async () => {
                    session.people.remember([asPerson(u)]);
                    onOpen(await session.conversations.create("direct", [u.id]));
                  })
                }
              >
                {t("coop.message")}
              </button>
            )}
          </li>
        ))}
        {found.items.length === 0 && !found.loading && <li className="list-empty">{t("coop.none")}</li>}
      </ul>
      {found.hasMore && (
        <button type="button" className="link-button" onClick={found.more}>
          {t("coop.more")}
        </button>
      )}
      <p className="form-error" role="alert">{error}</p>
    </>
  );
}

function ScopePicker({ value, onChange, name }: { value: Scope[]; onChange: (s: Scope[]) => void; name: string }) {
  const { t } = useI18n();
  return (
    <fieldset className="coop-scopes">
      {SCOPES.map((s) => (
        <label key={s}>
          <input
            type="checkbox"
            name={`${name}-${s}`}
            checked={value.includes(s)}
            onChange={() => onChange(value.includes(s) ? value.filter((x) => x !== s) : [...value, s])}
          />{" "}
          {t(`coop.scope.${s}` as MessageKey)}
        </label>
      ))}
    </fieldset>
  );
}

function PartnersPanel() {
  const { t } = useI18n();
  const me = useSession().me!;
  const admin = useAdmin();
  const [agreements, setAgreements] = useState<Agreement[]>([]);
  const [orgs, setOrgs] = useState<OrgSummary[]>([]);
  const [partner, setPartner] = useState("");
  const [scopes, setScopes] = useState<Scope[]>(["directory", "messaging", "images"]);
  const { error, run } = useFailure();
  const reload = useCallback(() => run(async () => setAgreements(await coopApi.agreements())), [run]);

  useEffect(() => {
    void reload();
    void coopApi.orgs().then(setOrgs, () => undefined);
  }, [reload]);

  const propose = (e: FormEvent) => {
    e.preventDefault();
    void run(async () => {
      await coopApi.propose(partner, scopes);
      setPartner("");
      await reload();
    });
  };

  return (
    <>
      <ul className="coop-list" aria-label={t("coop.tab.partners")}>
        {agreements.map((a) => (
          <li key={a.id} className={`coop-item ${a.status}`} data-org={a.other_org_name}>
            <div className="coop-item-main">
              <strong>{a.other_org_name}</strong>
              <span className={`coop-status ${a.status}`}>{t(`coop.status.${a.status}` as MessageKey)}</span>
              <span className="person-sub">
                {a.scopes.map((s) => t(`coop.scope.${s}` as MessageKey)).join(" · ")} —{" "}
                {a.council_id ? t("coop.byCouncil") : a.proposed_by_us ? t("coop.byUs") : t("coop.byThem")}
              </span>
            </div>
            {admin && a.status === "proposed" && !a.proposed_by_us && (
              <button type="button" className="primary small" onClick={() => void run(async () => (await coopApi.accept(a.id), reload()))}>
                {t("coop.accept")}
              </button>
            )}
            {admin && a.status !== "revoked" && (
              <button
                type="button"
                className="danger small"
                onClick={() => window.confirm(t("coop.confirmRevoke")) && void run(async () => (await coopApi.revoke(a.id), reload()))}
              >
                {t("coop.revoke")}
              </button>
            )}
          </li>
        ))}
        {agreements.length === 0 && <li className="list-empty">{t("coop.noAgreements")}</li>}
      </ul>
      {admin ? (
        <form className="coop-form" onSubmit={propose}>
          <h3>{t("coop.propose")}</h3>
          <label className="field">
            <span>{t("coop.partner")}</span>
            <select name="partner" value={partner} onChange={(e) => setPartner(e.target.value)} required>
              <option value="">{t("coop.choose")}</option>
              {orgs
                .filter((o) => o.kind === "hospital" && o.id !== me.organization.id)
                .map((o) => (
                  <option key={o.id} value={o.id}>
                    {o.name}
                  </option>
                ))}
            </select>
          </label>
          <ScopePicker value={scopes} onChange={setScopes} name="propose" />
          <button className="primary" type="submit" disabled={!partner || scopes.length === 0}>
            {t("coop.send")}
          </button>
        </form>
      ) : (
        <p className="person-sub">{t("coop.adminOnly")}</p>
      )}
      <p className="form-error" role="alert">{error}</p>
    </>
  );
}

function CouncilsPanel() {
  const me = useSession().me!;
  const kind = (me.organization as { kind?: string }).kind;
  return kind === "council" ? <CouncilAdmin id={me.organization.id} /> : <HospitalCouncils />;
}

function HospitalCouncils() {
  const { t } = useI18n();
  const admin = useAdmin();
  const [list, setList] = useState<Membership[]>([]);
  const { error, run } = useFailure();
  const reload = useCallback(() => run(async () => setList(await coopApi.myCouncils())), [run]);
  useEffect(() => void reload(), [reload]);

  return (
    <>
      <ul className="coop-list" aria-label={t("coop.tab.councils")}>
        {list.map((c) => (
          <li key={c.council_id} className="coop-item" data-council={c.council_name}>
            <div className="coop-item-main">
              <strong>{c.council_name}</strong>
              <span className={`coop-status ${c.status}`}>{t(`coop.status.${c.status}` as MessageKey)}</span>
            </div>
            {admin && c.status !== "opted_in" && (
              <button type="button" className="primary small" onClick={() => void run(async () => (await coopApi.optIn(c.council_id), reload()))}>
                {t("coop.optIn")}
              </button>
            )}
            {admin && c.status === "opted_in" && (
              <button type="button" className="danger small" onClick={() => void run(async () => (await coopApi.optOut(c.council_id), reload()))}>
                {t("coop.optOut")}
              </button>
            )}
          </li>
        ))}
        {list.length === 0 && <li className="list-empty">{t("coop.noCouncils")}</li>}
      </ul>
      <p className="form-error" role="alert">{error}</p>
    </>
  );
}

function CouncilAdmin({ id }: { id: string }) {
  const { t } = useI18n();
  const [council, setCouncil] = useState<Council | null>(null);
  const [orgs, setOrgs] = useState<OrgSummary[]>([]);
  const [invitee, setInvitee] = useState("");
  const [scopes, setScopes] = useState<Scope[]>(["directory", "messaging", "images"]);
  const [done, setDone] = useState("");
  const { error, run } = useFailure();
  const reload = useCallback(() => run(async () => setCouncil(await coopApi.council(id))), [run, id]);
  useEffect(() => {
    void reload();
    void coopApi.orgs().then(setOrgs, () => undefined);
  }, [reload]);
  if (!council) return <p className="form-error" role="alert">{error}</p>;
  const invited = new Set(council.members.map((m) => m.org_id));

  return (
    <>
      <h3>{council.name}</h3>
      <ul className="coop-list" aria-label={council.name}>
        {council.members.map((m) => (
          <li key={m.org_id} className="coop-item" data-org={m.org_name}>
            <div className="coop-item-main">
              <strong>{m.org_name}</strong>
              <span className={`coop-status ${m.status}`}>{t(`coop.status.${m.status}` as MessageKey)}</span>
            </div>
          </li>
        ))}
      </ul>
      {council.i_administer && (
        <>
          <form
            className="coop-form"
            onSubmit={(e) => {
              e.preventDefault();
              void run(async () => (setCouncil(await coopApi.invite(id, invitee)), setInvitee("")));
            }}
          >
            <label className="field">
              <span>{t("coop.invite")}</span>
              <select name="invitee" value={invitee} onChange={(e) => setInvitee(e.target.value)} required>
                <option value="">{t("coop.choose")}</option>
                {orgs
                  .filter((o) => o.kind === "hospital" && !invited.has(o.id))
                  .map((o) => (
                    <option key={o.id} value={o.id}>
                      {o.name}
                    </option>
                  ))}
              </select>
            </label>
            <button className="secondary" type="submit" disabled={!invitee}>
              {t("coop.invite")}
            </button>
          </form>
          <form
            className="coop-form"
            onSubmit={(e) => {
              e.preventDefault();
              void run(async () => {
                const result = await coopApi.createAll(id, scopes);
                setCouncil(result.council);
                setDone(t("coop.created", { n: result.created }));
              });
            }}
          >
            <span className="field">
              <span>{t("coop.councilScopes")}</span>
            </span>
            <ScopePicker value={scopes} onChange={setScopes} name="council" />
            <button className="primary" type="submit" disabled={scopes.length === 0}>
              {t("coop.createAll")}
            </button>
            <p role="status">{done}</p>
          </form>
        </>
      )}
      <p className="form-error" role="alert">{error}</p>
    </>
  );
}
