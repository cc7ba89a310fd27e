// Imaging connections: DICOM peers (modalities and PACS that send to renkei, each allowed only
// from the addresses named), edge gateways (their token is shown once, at creation), and the
// per-device redaction rules.

import { useState, type FormEvent } from "react";
import { useI18n } from "../i18n/i18n";
import type { Uuid } from "../types";
import { call } from "./api";
import { CardMessages, Listing, RemoveButton, useList } from "./cardParts";
import { addressText, parseAddresses } from "./peerAddresses";
import { RedactionRules } from "./RedactionRules";

interface Peer {
  id: Uuid;
  ae_title: string;
  allow: string[];
  created_at: string;
}

interface Gateway {
  id: Uuid;
  name: string;
  created_at: string;
  last_seen_at: string | null;
}

export function DicomPage({ orgId }: { orgId: Uuid }) {
  const { t } = useI18n();
  return (
    <section aria-labelledby="dicom-title">
      <h2 id="dicom-title">{t("admin.tab.dicom")}</h2>
      <Peers orgId={orgId} />
      <Gateways orgId={orgId} />
      <RedactionRules orgId={orgId} />
    </section>
  );
}

function Peers({ orgId }: { orgId: Uuid }) {
  const { t } = useI18n();
  const base = `/api/v1/orgs/${orgId}/dicom-peers`;
  const { items: peers, load, reply, setReply } = useList<Peer>(base);
  const [form, setForm] = useState({ ae_title: "", allow: "" });
  const [editing, setEditing] = useState<{ ae: string; allow: string } | null>(null);
  const [removing, setRemoving] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  const reset = () => (setReply(null), setProblem(null), setNotice(null));

  async function add(e: FormEvent) {
    e.preventDefault();
    reset();
    const allow = parseAddresses(form.allow);
    if (allow.length === 0) return setProblem(t("admin.dicom.allowRequired"));
    const r = await call("POST", base, { ae_title: form.ae_title.trim(), allow });
    if (r.status !== 201) return setReply(r);
    setForm({ ae_title: "", allow: "" });
    setNotice(t("admin.dicom.added", { ae: r.body.ae_title }));
    await load();
  }

  async function save(e: FormEvent) {
    e.preventDefault();
    if (!editing) return;
    reset();
    const allow = parseAddresses(editing.allow);
    if (allow.length === 0) return setProblem(t("admin.dicom.allowRequired"));
    const r = await call("PUT", `${base}/${encodeURIComponent(editing.ae)}`, { allow });
    if (r.status !== 200) return setReply(r);
    setEditing(null);
    setNotice(t("admin.dicom.updated", { ae: r.body.ae_title }));
    await load();
  }

  async function remove(ae: string) {
    reset();
    const r = await call("DELETE", `${base}/${encodeURIComponent(ae)}`);
    setRemoving(null);
    if (r.status !== 204) return setReply(r);
    setNotice(t("admin.dicom.removed", { ae }));
    await load();
  }

  return (
    <div className="admin-card">
      <h3>{t("admin.dicom.peers")}</h3>
      <p>{t("admin.dicom.peersIntro")}</p>
      <form className="admin-grid" onSubmit={add} aria-label={t("admin.dicom.add")}>
        <label className="field">
          <span>{t("admin.dicom.ae")}</span>
          <input name="ae_title" value={form.ae_title} maxLength={16} onChange={(e) => setForm({ ...form, ae_title: e.target.value.toUpperCase() })} autoComplete="off" spellCheck={false} />
        </label>
        <label className="field">
          <span>{t("admin.dicom.allow")}</span>
          <textarea name="allow" rows={2} value={form.allow} onChange={(e) => setForm({ ...form, allow: e.target.value })} placeholder="10.1.2.3&#10;10.1.3.0/24" spellCheck={false} />
          <small>{t("admin.dicom.allowHint")}</small>
        </label>
        <div className="admin-actions">
          <button type="submit" className="primary small" disabled={!form.ae_title.trim()}>
            {t("admin.dicom.add")}
          </button>
        </div>
      </form>
      <CardMessages problem={problem} reply={reply} notice={notice} />
      <Listing
        items={peers}
        empty={t("admin.dicom.noPeers")}
        columns={[t("admin.dicom.ae"), t("admin.dicom.allow")]}
        row={(p) => (
          <tr key={p.id}>
            <NameCell name={p.ae_title} created={p.created_at} />
            {editing?.ae === p.ae_title ? (
              <td colSpan={2}>
                <form onSubmit={(e) => void save(e)}>
                  <label className="field">
                    <span className="visually-hidden">{t("admin.dicom.allow")}</span>
                    <textarea name="edit-allow" rows={3} value={editing.allow} onChange={(e) => setEditing({ ae: p.ae_title, allow: e.target.value })} spellCheck={false} />
                  </label>
                  <div className="admin-actions">
                    <button type="submit" className="primary small">
                      {t("admin.save")}
                    </button>
                    <button type="button" className="secondary small" onClick={() => setEditing(null)}>
                      {t("common.cancel")}
                    </button>
                  </div>
                </form>
              </td>
            ) : (
              <>
                <td>{p.allow.length ? p.allow.join(", ") : <span className="admin-error">{t("admin.dicom.anyAddress")}</span>}</td>
                <td className="admin-actions">
                  {removing !== p.ae_title && (
                    <button type="button" className="secondary small" onClick={() => (reset(), setEditing({ ae: p.ae_title, allow: addressText(p.allow) }))}>
                      {t("admin.dicom.edit")}
                    </button>
                  )}
                  <RemoveButton
                    confirming={removing === p.ae_title}
                    confirmLabel={t("admin.dicom.confirmRemove", { ae: p.ae_title })}
                    onAsk={() => setRemoving(p.ae_title)}
                    onCancel={() => setRemoving(null)}
                    onConfirm={() => void remove(p.ae_title)}
                  />
                </td>
              </>
            )}
          </tr>
        )}
      />
    </div>
  );
}

function Gateways({ orgId }: { orgId: Uuid }) {
  const { t, day, time } = useI18n();
  const base = `/api/v1/orgs/${orgId}/gateways`;
  const { items: gateways, load, reply, setReply } = useList<Gateway>(base);
  const [name, setName] = useState("");
  const [token, setToken] = useState<{ name: string; token: string } | null>(null);
  const [removing, setRemoving] = useState<string | null>(null);

  async function add(e: FormEvent) {
    e.preventDefault();
    setReply(null);
    const r = await call("POST", base, { name: name.trim() });
    if (r.status !== 201) return setReply(r);
    setName("");
    setToken({ name: r.body.name, token: r.body.token });
    await load();
  }

  async function remove(gateway: string) {
    setReply(null);
    const r = await call("DELETE", `${base}/${encodeURIComponent(gateway)}`);
    setRemoving(null);
    if (r.status !== 204) return setReply(r);
    await load();
  }

  return (
    <div className="admin-card">
      <h3>{t("admin.gateways.title")}</h3>
      <p>{t("admin.gateways.intro")}</p>
      <form className="admin-inline" onSubmit={add}>
        <label className="field">
          <span>{t("admin.gateways.name")}</span>
          <input name="gateway-name" value={name} onChange={(e) => setName(e.target.value)} placeholder="main-building" autoComplete="off" spellCheck={false} />
        </label>
        <button type="submit" className="primary small" disabled={!name.trim()}>
          {t("admin.gateways.add")}
        </button>
      </form>
      <CardMessages
        reply={reply}
        notice={
          token && (
            <>
              {t("admin.gateways.token", { name: token.name })} <code className="admin-secret">{token.token}</code>
            </>
          )
        }
      />
      <Listing
        items={gateways}
        empty={t("admin.gateways.none")}
        columns={[t("admin.gateways.name"), t("admin.gateways.lastSeen")]}
        row={(g) => (
          <tr key={g.id}>
            <NameCell name={g.name} created={g.created_at} />
            <td>{g.last_seen_at ? `${day(g.last_seen_at)} ${time(g.last_seen_at)}` : t("admin.gateways.never")}</td>
            <td className="admin-actions">
              <RemoveButton
                confirming={removing === g.name}
                confirmLabel={t("admin.gateways.confirmRemove", { name: g.name })}
                onAsk={() => setRemoving(g.name)}
                onCancel={() => setRemoving(null)}
                onConfirm={() => void remove(g.name)}
              />
            </td>
          </tr>
        )}
      />
    </div>
  );
}

/** The name of a peer or gateway, with the day it was added under it. */
function NameCell({ name, created }: { name: string; created: string }) {
  const { day } = useI18n();
  return (
    <td>
      <strong>{name}</strong>
      <small>{day(created)}</small>
    </td>
  );
}
