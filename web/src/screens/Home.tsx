import { lazy, Suspense, useEffect, useRef, useState } from "react";
import { session } from "../session";
import { useSession } from "../hooks";
import { useI18n } from "../i18n/i18n";
import { ConversationList } from "./ConversationList";
import { ChatView } from "./ChatView";
import { NewConversation } from "./NewConversation";
import { LanguageSwitch } from "./LanguageSwitch";
import { Avatar, Icon } from "./common";
import { AdminMenuItem } from "../admin/entry";
import { Inbox } from "./Inbox";
import { MediaViewer } from "./Attachments";
import { loadViewer, nav, useOverlay } from "../state/nav";
import { SearchScreen } from "./chat/SearchScreen";
import { countsInTotal } from "../state/notify";
import { ScreenBoundary } from "./ScreenBoundary";
import { NotificationSettings } from "./NotificationSettings";
import { PasskeySettings } from "./PasskeySettings";
import { pushDevice, usePushStatus } from "../push/device";
import "./push.css";
import { CallLayer } from "../call/CallLayer";

const BANNER_KEY = "renkei.pushBanner";
function bannerDismissed(): boolean {
  try {
    return localStorage.getItem(BANNER_KEY) === "later";
  } catch {
    return false;
  }
}

// The viewer is its own chunk: the sign-in and the conversation list load without it.
const StudyViewer = lazy(loadViewer);

const CooperationScreen = lazy(() => import("../cooperation/CooperationScreen"));

export function Home() {
  const state = useSession();
  const { t } = useI18n();
  const [creating, setCreating] = useState(false);
  const [tab, setTab] = useState<"chats" | "images">("chats");
  const overlay = useOverlay();
  const [menu, setMenu] = useState(false);
  const [cooperation, setCooperation] = useState(false);
  const [notifications, setNotifications] = useState(false);
  const [passkeys, setPasskeys] = useState(false);
  const push = usePushStatus();
  const [bannerGone, setBannerGone] = useState(bannerDismissed);
  /** the message search: null closed, "all", or a conversation's id */
  const [searching, setSearching] = useState<string | null>(null);
  const menuRef = useRef<HTMLDivElement>(null);
  const me = state.me!;

  // The browser's back button closes the viewer, then leaves a conversation on a phone.
  useEffect(() => {
    const pop = () => {
      if (!nav.popped()) session.timelines.select(null);
    };
    window.addEventListener("popstate", pop);
    return () => {
      window.removeEventListener("popstate", pop);
      nav.reset();
    };
  }, []);

  useEffect(() => {
    if (!menu) return;
    const close = (e: PointerEvent) => {
      if (!menuRef.current?.contains(e.target as Node)) setMenu(false);
    };
    const esc = (e: KeyboardEvent) => e.key === "Escape" && setMenu(false);
    window.addEventListener("pointerdown", close);
    window.addEventListener("keydown", esc);
    return () => {
      window.removeEventListener("pointerdown", close);
      window.removeEventListener("keydown", esc);
    };
  }, [menu]);

  const open = (id: string) => {
    if (state.selected === null) history.pushState({ c: true }, "");
    session.timelines.select(id);
  };
  const offline = !state.online || state.connection === "offline";
  const unread = state.conversations.reduce((n, c) => n + (countsInTotal(c) ? c.unread : 0), 0);
  // The installed app's badge shows the unread count.
  useEffect(() => pushDevice.badge(unread), [unread]);
  const laterBanner = () => {
    try {
      localStorage.setItem(BANNER_KEY, "later");
    } catch {
      /* private mode: asked again next time */
    }
    setBannerGone(true);
  };
  const openFound = (id: string, seq: number) => {
    setSearching(null);
    if (state.selected === null) history.pushState({ c: true }, "");
    void session.timelines.openAt(id, seq);
  };

  return (
    <div className={`home ${state.selected ? "has-chat" : ""}`}>
      {offline && (
        <div className="offline-banner" role="status" aria-live="polite">
          {t("status.offline")}
        </div>
      )}
      <aside className="sidebar" aria-label={t("list.title")}>
        <header className="topbar">
          <div className="topbar-brand">
            <span className="brand-mark small" aria-hidden="true">連</span>
            <div className="topbar-titles">
              <h1>{tab === "chats" ? t("list.title") : t("inbox.title")}</h1>
              <span className="org-name">{me.organization.name}</span>
            </div>
          </div>
          <div className="topbar-actions">
            {tab === "chats" && (
              <button className="icon-button" type="button" aria-label={t("chatx.searchTitle")} title={t("chatx.searchTitle")} onClick={() => setSearching("all")}>
                <Icon name="search" />
              </button>
            )}
            {tab === "chats" && (
              <button className="icon-button" type="button" aria-label={t("list.new")} title={t("list.new")} onClick={() => setCreating(true)}>
                <Icon name="plus" />
              </button>
            )}
            <div className="menu-anchor" ref={menuRef}>
              <button
                className="icon-button avatar-button"
                type="button"
                aria-label={t("nav.menu")}
                aria-haspopup="true"
                aria-expanded={menu}
                onClick={() => setMenu(!menu)}
              >
                <Avatar name={me.user.display_name} id={me.user.id} size={36} />
              </button>
              {menu && (
                <div className="menu" role="menu">
                  <div className="menu-me">
                    <strong>{me.user.display_name}</strong>
                    <span>{t(`profession.${me.user.profession}` as never)}</span>
                  </div>
                  <div className="menu-lang">
                    <LanguageSwitch />
                  </div>
                  <button role="menuitem" type="button" onClick={() => (setMenu(false), setCooperation(true))}>
                    <Icon name="search" /> {t("coop.menu")}
                  </button>
                  <button role="menuitem" type="button" onClick={() => (setMenu(false), setNotifications(true))}>
                    <Icon name="bell" /> {t("push.menu")}
                  </button>
                  <button role="menuitem" type="button" onClick={() => session.changeVoluntarily("changePassword")}>
                    <Icon name="lock" /> {t("nav.changePassword")}
                  </button>
                  <button role="menuitem" type="button" onClick={() => session.changeVoluntarily("setPasscode")}>
                    <Icon name="lock" /> {t(me.has_passcode ? "nav.changePasscode" : "nav.setPasscode")}
                  </button>
                  <button role="menuitem" type="button" onClick={() => (setMenu(false), setPasskeys(true))}>
                    <Icon name="lock" /> {t("passkey.menu")}
                  </button>
                  {me.has_passcode && (
                    <button role="menuitem" type="button" onClick={() => session.lock("manual")}>
                      <Icon name="lock" /> {t("nav.lockNow")}
                    </button>
                  )}
                  {!me.user.second_factor_enrolled && (
                    <button role="menuitem" type="button" onClick={() => (setMenu(false), session.enrollVoluntarily())}>
                      <Icon name="lock" /> {t("twofa.menu")}
                    </button>
                  )}
                  <AdminMenuItem />
                  <button role="menuitem" type="button" onClick={() => void session.signOut()}>
                    <Icon name="logout" /> {t("nav.signOut")}
                  </button>
                </div>
              )}
            </div>
          </div>
        </header>
        <nav className="tabs" aria-label={t("nav.menu")}>
          <button type="button" className={`tab ${tab === "chats" ? "on" : ""}`} aria-current={tab === "chats"} onClick={() => setTab("chats")}>
            <Icon name="chat" /> {t("nav.chats")}
            {unread > 0 && <span className="badge">{unread}</span>}
          </button>
          <button type="button" className={`tab ${tab === "images" ? "on" : ""}`} aria-current={tab === "images"} onClick={() => setTab("images")}>
            <Icon name="study" /> {t("nav.images")}
          </button>
        </nav>
        {push.problems[0] === "notAsked" && !bannerGone && (
          <div className="push-banner" role="region" aria-label={t("push.menu")}>
            <p>{t("push.banner")}</p>
            <button type="button" className="primary" onClick={() => void pushDevice.enable().then(laterBanner)}>
              {t("push.enable")}
            </button>
            <button type="button" className="secondary" onClick={laterBanner}>
              {t("push.bannerLater")}
            </button>
          </div>
        )}
        {tab === "chats" ? <ConversationList onOpen={open} /> : <Inbox onShared={(id) => { setTab("chats"); open(id); }} />}
      </aside>
      <main className="chat-pane" aria-label={t("chat.select")}>
        {state.selected ? (
          <ScreenBoundary key={state.selected} name="chat" onBack={() => history.back()}>
            <ChatView id={state.selected} onBack={() => history.back()} onSearch={(id) => setSearching(id)} />
          </ScreenBoundary>
        ) : (
          <div className="chat-empty">
            <span className="brand-mark large" aria-hidden="true">連</span>
            <h2>{t("chat.select")}</h2>
            <p>{t("chat.selectHint")}</p>
          </div>
        )}
      </main>
      {overlay?.kind === "study" && (
        <Suspense fallback={<div className="viewer" role="status"><span className="viewport-status">{t("common.loading")}</span></div>}>
          <ScreenBoundary name="viewer" overlay onBack={nav.close}>
            <StudyViewer id={overlay.id} at={overlay.at} onClose={nav.close} onShared={(c) => { nav.close(); setTab("chats"); open(c); }} />
          </ScreenBoundary>
        </Suspense>
      )}
      {overlay?.kind === "media" && (
        <ScreenBoundary name="media" overlay onBack={nav.close}>
          <MediaViewer media={overlay.media} onClose={nav.close} />
        </ScreenBoundary>
      )}
      {cooperation && (
        <ScreenBoundary name="cooperation" overlay onBack={() => setCooperation(false)}>
          <Suspense fallback={null}>
            <CooperationScreen onClose={() => setCooperation(false)} onOpen={(id) => (setCooperation(false), open(id))} />
          </Suspense>
        </ScreenBoundary>
      )}
      {notifications && (
        <ScreenBoundary name="notifications" overlay onBack={() => setNotifications(false)}>
          <NotificationSettings onClose={() => setNotifications(false)} />
        </ScreenBoundary>
      )}
      {passkeys && (
        <ScreenBoundary name="passkeys" overlay onBack={() => setPasskeys(false)}>
          <PasskeySettings onClose={() => setPasskeys(false)} />
        </ScreenBoundary>
      )}
      {searching !== null && (
        <ScreenBoundary name="search" overlay onBack={() => setSearching(null)}>
          <SearchScreen conversation={searching === "all" ? null : searching} onClose={() => setSearching(null)} onOpen={openFound} />
        </ScreenBoundary>
      )}
      <CallLayer />
      {creating && (
        <NewConversation
          onClose={() => setCreating(false)}
          onCreated={(id) => {
            setCreating(false);
            open(id);
          }}
        />
      )}
    </div>
  );
}
