// Why notifications do not arrive, and what to do: the three cases that stop push (permission
// denied, an iPhone without the app on the home screen, no subscription on this device), this
// device's case first and marked, and Android's battery optimisation.

import { useEffect } from "react";
import { useI18n } from "../i18n/i18n";
import { pushDevice, usePushStatus } from "../push/device";
import type { PushProblem } from "../state/push";
import { Icon } from "./common";
import { Sheet } from "./Sheet";
import "./chat/chat.css";
import "./push.css";

export function PushHelp({ onClose }: { onClose: () => void }) {
  const { t } = useI18n();
  const status = usePushStatus();
  const problem: PushProblem | undefined = status.problems[0];
  // Coming back from the browser's settings: read the permission again.
  useEffect(() => {
    const again = () => document.visibilityState === "visible" && pushDevice.refresh();
    document.addEventListener("visibilitychange", again);
    return () => document.removeEventListener("visibilitychange", again);
  }, []);
  const here = (cases: PushProblem[]) => (problem && cases.includes(problem) ? "here" : "");
  const mark = (cases: PushProblem[]) => here(cases) && <span className="trouble-here">{t("trouble.thisDevice")}</span>;
  const subscribe = (label: "push.enable" | "push.resubscribe") => (
    <button type="button" className="primary" disabled={status.busy} onClick={() => void pushDevice.enable()}>
      <Icon name="bell" /> {status.busy ? t("push.busy") : t(label)}
    </button>
  );

  return (
    <Sheet titleId="trouble-title" title={t("trouble.title")} onClose={onClose} closeIcon="back" className="group-info push-help">
      <div className="info-scroll">
        <section className="info-section" aria-labelledby="trouble-now">
          <h3 id="trouble-now">{t("trouble.now")}</h3>
          <p className={`push-state ${problem ? "off" : "ok"}`} role="status">
            <Icon name={problem ? "alert" : "check"} />{" "}
            {!problem
              ? t("trouble.ok")
              : problem === "notAsked"
                ? t("trouble.notAsked")
                : problem === "unsupported"
                  ? t("trouble.unsupported")
                  : problem === "iosOld"
                    ? t("trouble.iosOld")
                    : t(problem === "denied" ? "trouble.denied" : problem === "iosNotInstalled" ? "trouble.iosInstall" : "trouble.notSubscribed")}
          </p>
          {status.error && <p className="form-error">{t(status.error === "server" ? "trouble.failedServer" : "trouble.failedService")}</p>}
          {problem === "notAsked" && <div className="push-actions">{subscribe("push.enable")}</div>}
        </section>

        <section className={`info-section trouble ${here(["denied"])}`} aria-labelledby="trouble-denied">
          <h3 id="trouble-denied">
            1. {t("trouble.denied")} {mark(["denied"])}
          </h3>
          <p className="trouble-text">{t("trouble.deniedText")}</p>
          <ul className="trouble-steps">
            <li>{t("trouble.deniedAndroid")}</li>
            <li>{t("trouble.deniedIos")}</li>
            <li>{t("trouble.deniedDesktop")}</li>
          </ul>
        </section>

        <section className={`info-section trouble ${here(["iosNotInstalled", "iosOld"])}`} aria-labelledby="trouble-ios">
          <h3 id="trouble-ios">
            2. {t("trouble.iosInstall")} {mark(["iosNotInstalled", "iosOld"])}
          </h3>
          <p className="trouble-text">{t("trouble.iosInstallText")}</p>
          <ol className="trouble-steps">
            <li>{t("trouble.iosStep1")}</li>
            <li>{t("trouble.iosStep2")}</li>
            <li>{t("trouble.iosStep3")}</li>
          </ol>
          {problem === "iosOld" && <p className="form-error">{t("trouble.iosOld")}</p>}
        </section>

        <section className={`info-section trouble ${here(["notSubscribed"])}`} aria-labelledby="trouble-sub">
          <h3 id="trouble-sub">
            3. {t("trouble.notSubscribed")} {mark(["notSubscribed"])}
          </h3>
          <p className="trouble-text">{t("trouble.notSubscribedText")}</p>
          {(problem === "notSubscribed" || problem === undefined) && <div className="push-actions">{subscribe("push.resubscribe")}</div>}
        </section>

        <section className={`info-section trouble ${status.facts.android ? "here" : ""}`} aria-labelledby="trouble-android">
          <h3 id="trouble-android">{t("trouble.android")}</h3>
          <p className="trouble-text">{t("trouble.androidText")}</p>
        </section>
      </div>
    </Sheet>
  );
}
