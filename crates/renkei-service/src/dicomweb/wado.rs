//! WADO-RS retrieval: the de-identified files of a study, a series or an instance, streamed
//! one after another, and their metadata in the DICOM JSON model; every retrieval audited.

use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::stream::{self, BoxStream};
use renkei_core::dicom::Study;
use renkei_store::blobs::BlobError;
use serde_json::Value;

use super::{audit_view, instance_in, metadata as instance_metadata, study_by_uid};
use crate::Services;
use crate::auth::session::Authed;
use crate::error::{OrService, ServiceError, ServiceResult};

/// What a retrieval names within a study.
#[derive(Debug, Clone, Copy)]
pub enum Target<'a> {
    Study,
    Series(&'a str),
    Instance { series: &'a str, sop: &'a str },
}

impl Target<'_> {
    /// The name of the retrieval in the audit log.
    fn service(self) -> &'static str {
        match self {
            Target::Study => "retrieve_study",
            Target::Series(_) => "retrieve_series",
            Target::Instance { .. } => "retrieve_instance",
        }
    }
}

/// One instance's bytes, as they are read.
pub type InstanceBytes = BoxStream<'static, Result<Bytes, BlobError>>;

/// The SOP Instance UIDs `target` names in `study`, checked to exist (404 otherwise).
async fn sops(state: &Services, study: &Study, target: Target<'_>) -> ServiceResult<Vec<String>> {
    let series = match target {
        Target::Instance { series, sop } => {
            instance_in(state, study, series, sop).await?;
            return Ok(vec![sop.to_owned()]);
        }
        Target::Study => None,
        Target::Series(series) => Some(series),
    };
    let sops: Vec<String> = state
        .store
        .instances_of(study.id, series)
        .await
        .or_service("study_not_found")?
        .into_iter()
        .map(|i| i.sop_uid)
        .collect();
    if sops.is_empty() {
        return Err(ServiceError::not_found("series_not_found"));
    }
    Ok(sops)
}

/// The files `target` names, streamed one after the other, each opened when its turn comes —
/// the first before this returns, so an unreadable instance is an error rather than a cut-off
/// body when it is the only one (or the first). Audited.
pub async fn retrieve(
    state: &Services,
    me: &Authed,
    study_uid: &str,
    target: Target<'_>,
) -> ServiceResult<BoxStream<'static, InstanceBytes>> {
    let study = study_by_uid(state, me, study_uid).await?;
    let sops = sops(state, &study, target).await?;
    audit_view(state, me, &study, target.service()).await?;
    let mut sops = sops.into_iter();
    let first = match sops.next() {
        Some(sop) => Some(state.dicom.open_instance(study.id, &sop).await?),
        None => None,
    };
    let dicom = state.dicom.clone();
    let rest = stream::iter(sops).then(move |sop| {
        let dicom = dicom.clone();
        let study = study.id;
        async move {
            match dicom.open_instance(study, &sop).await {
                Ok(s) => s,
                Err(e) => stream::iter([Err(BlobError::Io(e.message))]).boxed(),
            }
        }
    });
    Ok(stream::iter(first).chain(rest).boxed())
}

/// The metadata of every instance `target` names (audited).
pub async fn metadata(
    state: &Services,
    me: &Authed,
    study_uid: &str,
    target: Target<'_>,
) -> ServiceResult<Vec<Value>> {
    let study = study_by_uid(state, me, study_uid).await?;
    let mut out = Vec::new();
    for sop in sops(state, &study, target).await? {
        out.push(
            instance_metadata(state, &study, &sop)
                .await?
                .as_ref()
                .clone(),
        );
    }
    audit_view(state, me, &study, "metadata").await?;
    Ok(out)
}
