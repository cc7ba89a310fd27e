//! The redaction tool's bar: what to do, the boxes drawn on the image on screen, applying them
//! (after a confirmation: the original image is destroyed), and afterwards, with one tap, a rule
//! that blanks the same boxes on every image from that device.

import { useState } from "react";
import { api, ApiError } from "../api";
import { useI18n } from "../i18n/i18n";
import type { Uuid } from "../types";
import type { Area } from "./redaction";

type Step =
  | { kind: "drawing" }
  | { kind: "confirm" }
  | { kind: "busy" }
  | { kind: "done"; sop: string; boxes: Area[]; rule: "none" | "busy" | "made" }
  | { kind: "failed"; code: string };

export function RedactionBar(props: {
  study: Uuid;
  sop: string;
  boxes: Area[];
  count: number;
  onClear: () => void;
  onApplied: () => void;
}) {
  const { t } = useI18n();
  const [step, setStep] = useState<Step>({ kind: "drawing" });

  const apply = async () => {
    const boxes = props.boxes;
    setStep({ kind: "busy" });
    try {
      const done = await api.redact(props.study, props.sop, boxes);
      setStep({ kind: "done", sop: done.sop_uid, boxes, rule: "none" });
      props.onApplied();
    } catch (e) {
      setStep({ kind: "failed", code: e instanceof ApiError ? e.code : "common.error" });
    }
  };

  const makeRule = async (done: Step & { kind: "done" }) => {
    setStep({ ...done, rule: "busy" });
    try {
      await api.redactionRuleFrom(props.study, done.sop, done.boxes);
      setStep({ ...done, rule: "made" });
    } catch (e) {
      setStep({ kind: "failed", code: e instanceof ApiError ? e.code : "common.error" });
    }
  };

  if (step.kind === "done") {
    return (
      <div className="redaction-bar" role="status">
        <span>{t("viewer.redact.done")}</span>
        {step.rule === "made" ? (
          <span className="redaction-note">{t("viewer.redact.ruleMade")}</span>
        ) : (
          <button type="button" className="redaction-secondary" disabled={step.rule === "busy"} onClick={() => makeRule(step)}>
            {t("viewer.redact.makeRule")}
          </button>
        )}
      </div>
    );
  }
  return (
    <div className="redaction-bar" role="group" aria-label={t("viewer.tool.redact")}>
      {step.kind === "failed" && (
        <span className="redaction-error" role="alert">
          {t(step.code === "forbidden" ? "viewer.redact.forbidden" : "viewer.redact.failed")}
        </span>
      )}
      {step.kind === "confirm" ? (
        <>
          <span>{t("viewer.redact.confirm")}</span>
          <button type="button" className="redaction-danger" onClick={apply}>
            {t("viewer.redact.confirmApply")}
          </button>
          <button type="button" className="redaction-secondary" onClick={() => setStep({ kind: "drawing" })}>
            {t("common.cancel")}
          </button>
        </>
      ) : (
        <>
          <span>{props.count === 0 ? t("viewer.redact.hint") : t("viewer.redact.count", { n: props.count })}</span>
          {props.count > 0 && (
            <>
              <button type="button" className="redaction-danger" disabled={step.kind === "busy"} onClick={() => setStep({ kind: "confirm" })}>
                {t("viewer.redact.apply")}
              </button>
              <button type="button" className="redaction-secondary" disabled={step.kind === "busy"} onClick={props.onClear}>
                {t("viewer.redact.clear")}
              </button>
            </>
          )}
        </>
      )}
    </div>
  );
}
