// The notification settings (from the menu): whether notifications reach this device (and the
// way to turn them on after a tap), do-not-disturb hours, the covering colleague for urgent
// messages, the devices that get notifications (with remove), and where each conversation's
// level is set. The troubleshooting screen opens from here.

import { useEffect, useMemo, useState, type FormEvent } from "react";
import { ApiError } from "../api";
import { useSession } from "../hooks";
import { useI18n } from "../i18n/i18n";
import { pushApi, type NotificationPrefs, type PushDevice } from "../push/api";
import { pushDevice, usePushStatus } from "../push/device";
import { filterPeople } from "../state/people";
import { dndValid, utcOffsetMinutes } from "../state/push";
import type { Person, Uuid } from "../types";
import { Avatar, Icon } from "./common";
import { Sheet } from "./Sheet";
import { PushHelp } from "./PushHelp";
import "./chat/chat.css";
import "./push.css";

export function NotificationSettings({ onClose }: { onClose: () => void }) {
  const { t } = useI18n();
  const [help, setHelp] = useState(false);
  if (help) return <PushHelp onClose={() => setHelp(false)} />;
  return (
    <Sheet titleId="push-title" title={t("push.title")} onClose={onClose} className="group-info push-settings">
      <div className="info-scroll">
        <DeviceSection onHelp={() => setHelp(true)} />
        <Prefs />
        <Devices />
        <section className="info-section" aria-labelledby="per-conv-title">
          <h3 id="per-conv-title">{t("push.perConversation")}</h3>
          <p className="info-hint">{t("push.perConversationHint")}</p>
        </section>
      </div>
    </Sheet>
  );
}

/** Whether notifications reach this device, and the button that asks (a user gesture). */
export function DeviceSection({ onHelp }: { onHelp: () => void }) {
  const { t } = useI18n();
  const status = usePushStatus();
  const ok = status.problems.length === 0;
  const canEnable = status.problems[0] === "notAsked" || status.problems[0] === "notSubscribed";
  return (
    <section className="info-section" aria-labelledby="device-title">
      <h3 id="device-title">{t("push.device")}</h3>
      <p className={`push-state ${ok ? "ok" : "off"}`} role="status">
        <Icon name={ok ? "check" : "alert"} /> {t(ok ? "push.deviceOn" : "push.deviceOff")}
      </p>
      {status.error && <p className="form-error">{t(status.error === "server" ? "trouble.failedServer" : "trouble.failedService")}</p>}
      <div className="push-actions">
        {canEnable && (
          <button type="button" className="primary" disabled={status.busy} onClick={() => void pushDevice.enable()}>
            <Icon name="bell" /> {status.busy ? t("push.busy") : t(status.problems[0] === "notAsked" ? "push.enable" : "push.resubscribe")}
          </button>
        )}
        <button type="button" className="secondary" onClick={onHelp}>
          {t(ok ? "push.help" : "push.why")}
        </button>
      </div>
    </section>
  );
}

/** Do-not-disturb hours and the covering colleague (`/api/v1/me/notifications`). */
function Prefs() {
  const { t } = useI18n();
  const state = useSession();
  const me = state.me!;
  const [prefs, setPrefs] = useState<NotificationPrefs | null>(null);
  const [start, setStart] = useState("");
  const [end, setEnd] = useState("");
  const [note, setNote] = useState<"" | "saved" | "error" | "covering">("");
  const [picking, setPicking] = useState(false);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    pushApi.prefs().then(
      (p) => {
        setPrefs(p);
        setStart(p.dnd_start ?? "");
        setEnd(p.dnd_end ?? "");
      },
      () => setNote("error"),
    );
  }, []);

  const save = async (next: Partial<NotificationPrefs>) => {
    if (!prefs) return;
    setBusy(true);
    setNote("");
    try {
      const saved = await pushApi.savePrefs({ ...prefs, utc_offset_minutes: utcOffsetMinutes(new Date()), ...next });
      setPrefs(saved);
      setNote("saved");
    } catch (e) {
      setNote(e instanceof ApiError && e.code === "invalid_covering_user" ? "covering" : "error");
    } finally {
      setBusy(false);
    }
  };
  const submitDnd = (e: FormEvent) => {
    e.preventDefault();
    void save({ dnd_start: start || null, dnd_end: end || null });
  };
  const valid = dndValid(start, end);
  const covering = prefs?.covering_user_id ? state.users[prefs.covering_user_id] : undefined;

  return (
    <>
      <form className="info-section" aria-labelledby="dnd-title" onSubmit={submitDnd}>
        <h3 id="dnd-title">{t("push.dnd")}</h3>
        <div className="info-row dnd-row">
          <label>
            <span>{t("push.dndFrom")}</span>
            <input type="time" value={start} onChange={(e) => setStart(e.target.value)} disabled={!prefs} />
          </label>
          <span aria-hidden="true">–</span>
          <label>
            <span>{t("push.dndTo")}</span>
            <input type="time" value={end} onChange={(e) => setEnd(e.target.value)} disabled={!prefs} />
          </label>
        </div>
        <p className="info-hint">{t("push.dndHint")}</p>
        {!valid && <p className="form-error">{t("push.dndInvalid")}</p>}
        <div className="push-actions">
          <button type="submit" className="primary" disabled={!prefs || !valid || busy}>
            {t("push.save")}
          </button>
          {(start || end) && (
            <button type="button" className="secondary" disabled={!prefs || busy} onClick={() => (setStart(""), setEnd(""), void save({ dnd_start: null, dnd_end: null }))}>
              {t("push.dndOff")}
            </button>
          )}
          {note === "saved" && <span className="push-saved" role="status">{t("push.saved")}</span>}
        </div>
        {note === "error" && <p className="form-error" role="alert">{t("common.error")}</p>}
      </form>

      <section className="info-section" aria-labelledby="covering-title">
        <h3 id="covering-title">{t("push.covering")}</h3>
        <div className="covering">
          {covering ? (
            <>
              <Avatar name={covering.display_name} id={covering.id} size={36} />
              <span className="person-main">
                <span className="person-name">{covering.display_name}</span>
                <span className="person-sub">{covering.kana}</span>
              </span>
            </>
          ) : (
            <span className="person-main covering-none">{prefs?.covering_user_id ? t("chat.unknownUser") : t("push.coveringNone")}</span>
          )}
          <button type="button" className="secondary small" disabled={!prefs || busy} onClick={() => setPicking(!picking)}>
            {t("push.coveringChoose")}
          </button>
          {prefs?.covering_user_id && (
            <button type="button" className="secondary small" disabled={busy} onClick={() => void save({ covering_user_id: null })}>
              {t("push.coveringClear")}
            </button>
          )}
        </div>
        {picking && (
          <PersonPicker
            people={Object.values(state.users).filter((u) => u.id !== me.user.id && u.org_id === me.organization.id)}
            onPick={(u) => {
              setPicking(false);
              void save({ covering_user_id: u });
            }}
          />
        )}
        {note === "covering" && <p className="form-error" role="alert">{t("push.coveringInvalid")}</p>}
        <p className="info-hint">{t("push.coveringHint")}</p>
      </section>
    </>
  );
}

/** Colleagues of one's own hospital, found by name, kana or romaji. */
function PersonPicker({ people, onPick }: { people: Person[]; onPick: (id: Uuid) => void }) {
  const { t } = useI18n();
  const [query, setQuery] = useState("");
  const found = useMemo(() => filterPeople(people, query).slice(0, 8), [people, query]);
  return (
    <div className="add-member-box">
      <div className="search">
        <Icon name="search" />
        <input type="search" autoFocus aria-label={t("push.coveringSearch")} placeholder={t("push.coveringSearch")} value={query} onChange={(e) => setQuery(e.target.value)} />
      </div>
      <ul className="people" aria-label={t("push.covering")}>
        {found.map((u) => (
          <li key={u.id} className="person">
            <Avatar name={u.display_name} id={u.id} size={36} />
            <span className="person-main">
              <span className="person-name">{u.display_name}</span>
              <span className="person-sub">{u.kana}</span>
            </span>
            <button type="button" className="secondary small" aria-label={t("push.coveringPick", { name: u.display_name })} onClick={() => onPick(u.id)}>
              {t("push.coveringChoose")}
            </button>
          </li>
        ))}
        {found.length === 0 && <li className="list-empty">{t("coop.none")}</li>}
      </ul>
    </div>
  );
}

/** One's own devices that get notifications (no endpoint addresses are shown or sent). */
function Devices() {
  const { t, shortTime } = useI18n();
  const status = usePushStatus();
  const [devices, setDevices] = useState<PushDevice[] | null>(null);
  const [failed, setFailed] = useState(false);
  const load = () => pushApi.devices().then(setDevices, () => setFailed(true));
  useEffect(() => void load(), [status.facts.subscribed]);
  const remove = async (id: Uuid) => {
    try {
      await pushApi.removeDevice(id);
      await load();
    } catch {
      setFailed(true);
    }
  };
  return (
    <section className="info-section" aria-labelledby="devices-title">
      <h3 id="devices-title">{t("push.devices")}</h3>
      {failed && <p className="form-error">{t("common.error")}</p>}
      {devices?.length === 0 && <p className="info-hint">{t("push.devicesNone")}</p>}
      <ul className="push-devices">
        {devices?.map((d) => {
          const label = d.device_label || d.push_service;
          return (
            <li key={d.id} className={d.failing_since ? "failing" : ""}>
              <span className="person-main">
                <span className="person-name">
                  {label}
                  {d.id === status.id && <span className="trouble-here this-device">{t("trouble.thisDevice")}</span>}
                </span>
                <span className="person-sub">
                  {d.push_service} ·{" "}
                  {d.failing_since
                    ? t("push.deviceFailing", { time: shortTime(d.failing_since) })
                    : d.last_pushed_at
                      ? t("push.deviceLast", { time: shortTime(d.last_pushed_at) })
                      : t("push.deviceNever")}
                </span>
              </span>
              <button type="button" className="secondary small danger" aria-label={t("push.deviceRemoveWho", { name: label })} onClick={() => void remove(d.id)}>
                {t("push.deviceRemove")}
              </button>
            </li>
          );
        })}
      </ul>
    </section>
  );
}
