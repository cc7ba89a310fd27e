//! Association negotiation: answer an A-ASSOCIATE-RQ with an A-ASSOCIATE-AC or -RJ.

use std::collections::HashMap;

use dicom_ul::pdu::{
    AssociationAC, AssociationRJ, AssociationRJResult, AssociationRJServiceProviderASCEReason,
    AssociationRJServiceProviderPresentationReason, AssociationRJServiceUserReason,
    AssociationRJSource, AssociationRQ, PresentationContextResult, PresentationContextResultReason,
    UserVariableItem,
};

use super::config::{
    EXPLICIT_VR_BIG_ENDIAN, EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN, ScpConfig,
};
use super::gatekeeper::Rejection;

/// The DICOM Application Context Name (PS3.7 A.2.1).
pub const APPLICATION_CONTEXT_NAME: &str = "1.2.840.10008.3.1.1.1";
/// Verification SOP Class.
pub const VERIFICATION_SOP_CLASS: &str = "1.2.840.10008.1.1";
/// Every storage SOP class UID starts with this.
pub const STORAGE_SOP_CLASS_PREFIX: &str = "1.2.840.10008.5.1.4.1.1.";
/// Our Implementation Class UID (a UUID-derived UID, PS3.5 B.2).
pub const IMPLEMENTATION_CLASS_UID: &str = "2.25.15318303358239036540322958301453572433";
/// Our Implementation Version Name (at most 16 characters).
pub const IMPLEMENTATION_VERSION_NAME: &str = "RENKEI_SCP_0_1";

/// One accepted presentation context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcceptedContext {
    /// The SOP class it carries.
    pub abstract_syntax: String,
    /// The transfer syntax chosen for it.
    pub transfer_syntax: String,
}

/// What an association was accepted with.
#[derive(Debug, Clone)]
pub struct Negotiated {
    /// The answer to send.
    pub accept: AssociationAC,
    /// Accepted presentation contexts by ID.
    pub contexts: HashMap<u8, AcceptedContext>,
    /// The longest P-DATA-TF PDU the peer accepts (0: no limit).
    pub peer_max_pdu_length: u32,
}

/// Whether we serve `abstract_syntax`: Verification and every storage SOP class.
pub fn is_supported_sop_class(abstract_syntax: &str) -> bool {
    abstract_syntax == VERIFICATION_SOP_CLASS
        || abstract_syntax
            .strip_prefix(STORAGE_SOP_CLASS_PREFIX)
            .is_some_and(|rest| {
                !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit() || b == b'.')
            })
}

/// The checks that come before the gatekeeper: protocol version, application context and
/// called AE title.
pub fn precheck(request: &AssociationRQ, config: &ScpConfig) -> Result<(), AssociationRJ> {
    if request.protocol_version & 1 == 0 {
        return Err(AssociationRJ {
            result: AssociationRJResult::Permanent,
            source: AssociationRJSource::ServiceProviderASCE(
                AssociationRJServiceProviderASCEReason::ProtocolVersionNotSupported,
            ),
        });
    }
    if trim_uid(&request.application_context_name) != APPLICATION_CONTEXT_NAME {
        return Err(user_rejection(
            AssociationRJServiceUserReason::ApplicationContextNameNotSupported,
        ));
    }
    if request.called_ae_title.trim() != config.ae_title.trim() {
        return Err(user_rejection(
            AssociationRJServiceUserReason::CalledAETitleNotRecognized,
        ));
    }
    Ok(())
}

/// The A-ASSOCIATE-RJ for a gatekeeper's refusal.
pub fn rejection(refusal: &Rejection) -> AssociationRJ {
    match refusal {
        Rejection::UnknownCaller { .. } => {
            user_rejection(AssociationRJServiceUserReason::CallingAETitleNotRecognized)
        }
        Rejection::Unavailable { .. } => AssociationRJ {
            result: AssociationRJResult::Transient,
            source: AssociationRJSource::ServiceProviderPresentation(
                AssociationRJServiceProviderPresentationReason::TemporaryCongestion,
            ),
        },
    }
}

/// The A-ASSOCIATE-RJ sent when every association slot is taken.
pub fn limit_exceeded() -> AssociationRJ {
    AssociationRJ {
        result: AssociationRJResult::Transient,
        source: AssociationRJSource::ServiceProviderPresentation(
            AssociationRJServiceProviderPresentationReason::LocalLimitExceeded,
        ),
    }
}

fn user_rejection(reason: AssociationRJServiceUserReason) -> AssociationRJ {
    AssociationRJ {
        result: AssociationRJResult::Permanent,
        source: AssociationRJSource::ServiceUser(reason),
    }
}

/// Answers each proposed presentation context: supported SOP classes get the first proposed
/// transfer syntax that we accept; Verification only the uncompressed ones.
pub fn negotiate(request: &AssociationRQ, config: &ScpConfig) -> Negotiated {
    let mut contexts = HashMap::new();
    let mut results = Vec::with_capacity(request.presentation_contexts.len());
    for proposed in &request.presentation_contexts {
        let abstract_syntax = trim_uid(&proposed.abstract_syntax);
        let verification = abstract_syntax == VERIFICATION_SOP_CLASS;
        let chosen = proposed
            .transfer_syntaxes
            .iter()
            .map(|ts| trim_uid(ts))
            .find(|ts| {
                if verification {
                    [
                        IMPLICIT_VR_LITTLE_ENDIAN,
                        EXPLICIT_VR_LITTLE_ENDIAN,
                        EXPLICIT_VR_BIG_ENDIAN,
                    ]
                    .contains(ts)
                } else {
                    config.accepts_transfer_syntax(ts)
                }
            });
        // Context IDs are odd (PS3.8 9.3.2.2); an even or repeated one is refused.
        let valid_id = proposed.id % 2 == 1 && !contexts.contains_key(&proposed.id);
        let (reason, transfer_syntax) = match chosen {
            _ if !is_supported_sop_class(abstract_syntax) => (
                PresentationContextResultReason::AbstractSyntaxNotSupported,
                IMPLICIT_VR_LITTLE_ENDIAN,
            ),
            _ if !valid_id => (
                PresentationContextResultReason::NoReason,
                IMPLICIT_VR_LITTLE_ENDIAN,
            ),
            None => (
                PresentationContextResultReason::TransferSyntaxesNotSupported,
                IMPLICIT_VR_LITTLE_ENDIAN,
            ),
            Some(ts) => {
                contexts.insert(
                    proposed.id,
                    AcceptedContext {
                        abstract_syntax: abstract_syntax.to_string(),
                        transfer_syntax: ts.to_string(),
                    },
                );
                (PresentationContextResultReason::Acceptance, ts)
            }
        };
        results.push(PresentationContextResult {
            id: proposed.id,
            reason,
            transfer_syntax: transfer_syntax.to_string(),
        });
    }
    let peer_max_pdu_length = request
        .user_variables
        .iter()
        .find_map(|item| match item {
            UserVariableItem::MaxLength(length) => Some(*length),
            _ => None,
        })
        .unwrap_or(0);
    let accept = AssociationAC {
        protocol_version: 1,
        calling_ae_title: request.calling_ae_title.clone(),
        called_ae_title: request.called_ae_title.clone(),
        application_context_name: APPLICATION_CONTEXT_NAME.to_string(),
        presentation_contexts: results,
        user_variables: vec![
            UserVariableItem::MaxLength(config.max_pdu_length),
            UserVariableItem::ImplementationClassUID(IMPLEMENTATION_CLASS_UID.to_string()),
            UserVariableItem::ImplementationVersionName(IMPLEMENTATION_VERSION_NAME.to_string()),
        ],
    };
    Negotiated {
        accept,
        contexts,
        peer_max_pdu_length,
    }
}

/// A UID without the NUL or space padding some implementations leave in PDU items.
pub fn trim_uid(uid: &str) -> &str {
    uid.trim_matches(['\0', ' '])
}

#[cfg(test)]
mod tests {
    use dicom_ul::pdu::PresentationContextProposed;

    use super::*;
    use crate::scp::config::{JPEG_BASELINE, RLE_LOSSLESS};

    fn request(contexts: Vec<(u8, &str, Vec<&str>)>) -> AssociationRQ {
        AssociationRQ {
            protocol_version: 1,
            calling_ae_title: "STORESCU".into(),
            called_ae_title: "RENKEI".into(),
            application_context_name: APPLICATION_CONTEXT_NAME.into(),
            presentation_contexts: contexts
                .into_iter()
                .map(|(id, abstract_syntax, ts)| PresentationContextProposed {
                    id,
                    abstract_syntax: abstract_syntax.into(),
                    transfer_syntaxes: ts.into_iter().map(String::from).collect(),
                })
                .collect(),
            user_variables: vec![UserVariableItem::MaxLength(16_384)],
        }
    }

    #[test]
    fn storage_and_verification_are_supported_and_nothing_else() {
        assert!(is_supported_sop_class("1.2.840.10008.5.1.4.1.1.2"));
        assert!(is_supported_sop_class("1.2.840.10008.5.1.4.1.1.9.1.1"));
        assert!(is_supported_sop_class(VERIFICATION_SOP_CLASS));
        assert!(!is_supported_sop_class("1.2.840.10008.5.1.4.1.2.2.1"));
        assert!(!is_supported_sop_class("1.2.840.10008.5.1.4.1.1."));
        assert!(!is_supported_sop_class("1.2.840.10008.5.1.4.1.1.2x"));
    }

    #[test]
    fn the_first_supported_proposal_wins() {
        let config = ScpConfig::default();
        let negotiated = negotiate(
            &request(vec![
                (
                    1,
                    "1.2.840.10008.5.1.4.1.1.2",
                    vec!["1.2.3", JPEG_BASELINE, RLE_LOSSLESS],
                ),
                (
                    3,
                    "1.2.840.10008.5.1.4.1.2.2.1",
                    vec![IMPLICIT_VR_LITTLE_ENDIAN],
                ),
                (5, "1.2.840.10008.5.1.4.1.1.7", vec!["1.2.3"]),
                (
                    7,
                    "1.2.840.10008.1.1\0",
                    vec![JPEG_BASELINE, "1.2.840.10008.1.2\0"],
                ),
                (
                    8,
                    "1.2.840.10008.5.1.4.1.1.7",
                    vec![IMPLICIT_VR_LITTLE_ENDIAN],
                ),
            ]),
            &config,
        );
        let reasons: Vec<_> = negotiated
            .accept
            .presentation_contexts
            .iter()
            .map(|pc| pc.reason.clone())
            .collect();
        assert_eq!(
            reasons,
            vec![
                PresentationContextResultReason::Acceptance,
                PresentationContextResultReason::AbstractSyntaxNotSupported,
                PresentationContextResultReason::TransferSyntaxesNotSupported,
                PresentationContextResultReason::Acceptance,
                PresentationContextResultReason::NoReason,
            ]
        );
        assert_eq!(negotiated.contexts.len(), 2);
        assert_eq!(negotiated.contexts[&1].transfer_syntax, JPEG_BASELINE);
        assert_eq!(
            negotiated.contexts[&7].transfer_syntax,
            IMPLICIT_VR_LITTLE_ENDIAN
        );
        assert_eq!(negotiated.peer_max_pdu_length, 16_384);
    }

    #[test]
    fn the_called_ae_title_must_be_ours() {
        let config = ScpConfig::default();
        let mut wrong = request(vec![]);
        wrong.called_ae_title = "OTHER".into();
        let Err(rejection) = precheck(&wrong, &config) else {
            panic!("accepted a wrong called AE title");
        };
        assert_eq!(
            rejection.source,
            AssociationRJSource::ServiceUser(
                AssociationRJServiceUserReason::CalledAETitleNotRecognized
            )
        );
        assert!(precheck(&request(vec![]), &config).is_ok());
    }
}
