//! DICOM in the domain: the peers allowed to send to an organization, and the index of
//! received (already de-identified) studies, series and instances.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::DomainError;
use crate::clock::Timestamp;

/// An address or a CIDR range of addresses, e.g. `10.1.2.0/24`, `192.168.1.5`, `fd00::/8`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressRange {
    network: IpAddr,
    prefix: u8,
}

impl AddressRange {
    /// Parses `address` or `address/prefix`.
    pub fn parse(text: &str) -> Result<AddressRange, DomainError> {
        let bad = || {
            DomainError::invalid(
                "invalid_address_range",
                format!("{text:?} is not an address or CIDR range"),
            )
        };
        let (addr, prefix) = match text.trim().split_once('/') {
            Some((a, p)) => (a, Some(p.parse::<u8>().map_err(|_| bad())?)),
            None => (text.trim(), None),
        };
        let network: IpAddr = addr.parse().map_err(|_| bad())?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        if prefix > max {
            return Err(bad());
        }
        Ok(AddressRange { network, prefix })
    }

    /// Whether `ip` lies in the range (IPv4-mapped IPv6 addresses count as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
            v4 => v4,
        };
        match (self.network, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                masked(u32::from(net).into(), 32, self.prefix)
                    == masked(u32::from(ip).into(), 32, self.prefix)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                masked(u128::from(net), 128, self.prefix)
                    == masked(u128::from(ip), 128, self.prefix)
            }
            _ => false,
        }
    }
}

fn masked(value: u128, bits: u8, prefix: u8) -> u128 {
    if prefix == 0 {
        return 0;
    }
    value >> (bits - prefix)
}

impl std::fmt::Display for AddressRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

/// A DICOM application entity allowed to send to an organization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DicomPeer {
    pub id: Uuid,
    pub org_id: Uuid,
    /// The calling AE title, e.g. `CT01`.
    pub ae_title: String,
    /// Addresses or CIDR ranges it may call from; empty means any.
    pub allow: Vec<String>,
    pub created_at: Timestamp,
}

impl DicomPeer {
    /// Whether the peer may call from `ip`.
    pub fn admits(&self, ip: IpAddr) -> bool {
        self.allow.is_empty()
            || self
                .allow
                .iter()
                .filter_map(|r| AddressRange::parse(r).ok())
                .any(|r| r.contains(ip))
    }
}

/// An edge gateway of an organization: receives DICOM inside the hospital, de-identifies it
/// there and forwards it. Its token is shown once, when it is created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Gateway {
    pub id: Uuid,
    pub org_id: Uuid,
    /// A name the admins recognize, e.g. `main-building`.
    pub name: String,
    pub created_at: Timestamp,
    /// When it last called the server (to the minute).
    pub last_seen_at: Option<Timestamp>,
}

/// What the server tells a gateway (`GET /api/v1/gateway/config`): everything it needs to
/// receive and de-identify exactly as the server would, so an instance gets the same new UIDs
/// whichever way it came.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct GatewayConfig {
    pub org_id: Uuid,
    pub org_name: String,
    pub gateway_name: String,
    /// The organization's de-identification key (UID remapping, date shift), base64.
    pub deid_secret: String,
    /// Patient ID digits kept (organization policy).
    pub patient_id_digits: u8,
    /// The largest instance the server takes, in bytes.
    pub max_instance_bytes: u64,
    /// The PACS and modalities allowed to send (AE title + address ranges).
    pub peers: Vec<DicomPeer>,
    /// Per-device redaction rules, applied after de-identification (absent from older servers).
    #[serde(default)]
    pub redaction_rules: Vec<crate::redaction::RedactionRule>,
}

/// What an admin gives to add a gateway.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewGateway {
    pub name: String,
}

impl NewGateway {
    /// The gateway, once its name is checked: 1–64 letters, digits, `-`, `_` or `.`.
    pub fn build(&self, org_id: Uuid, now: Timestamp) -> Result<Gateway, DomainError> {
        let name = self.name.trim();
        let valid = !name.is_empty()
            && name.len() <= 64
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if !valid {
            return Err(DomainError::invalid(
                "invalid_gateway_name",
                "a gateway name is 1 to 64 letters, digits, '-', '_' or '.'",
            ));
        }
        Ok(Gateway {
            id: crate::new_id(),
            org_id,
            name: name.to_owned(),
            created_at: now,
            last_seen_at: None,
        })
    }
}

/// The peer calling as `calling_ae` from `ip` among `peers` (by AE title), or why it may not
/// associate (logged, never sent).
pub fn admitted_peer<'a>(
    peers: &'a std::collections::HashMap<String, DicomPeer>,
    calling_ae: &str,
    ip: IpAddr,
) -> Result<&'a DicomPeer, &'static str> {
    let peer = peers.get(calling_ae.trim()).ok_or("unknown AE title")?;
    if !peer.admits(ip) {
        return Err("address outside the peer's allowed ranges");
    }
    Ok(peer)
}

/// What an admin gives to add a peer.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDicomPeer {
    pub ae_title: String,
    #[serde(default)]
    pub allow: Vec<String>,
    /// Admit the peer from any address, its AE title being its only credential: must be
    /// asked for explicitly, an empty `allow` alone is refused.
    #[serde(default)]
    pub allow_any_address: bool,
}

impl NewDicomPeer {
    /// Validates and builds the peer of `org_id`.
    pub fn build(&self, org_id: Uuid, now: Timestamp) -> Result<DicomPeer, DomainError> {
        let ae = validate_ae_title(&self.ae_title)?;
        let allow = self
            .allow
            .iter()
            .filter(|r| !r.trim().is_empty())
            .map(|r| AddressRange::parse(r).map(|r| r.to_string()))
            .collect::<Result<Vec<_>, _>>()?;
        if allow.is_empty() && !self.allow_any_address {
            return Err(DomainError::invalid(
                "allow_required",
                "name at least one address or CIDR range the peer calls from",
            ));
        }
        Ok(DicomPeer {
            id: crate::new_id(),
            org_id,
            ae_title: ae,
            allow,
            created_at: now,
        })
    }
}

/// An AE title: 1–16 characters of printable ASCII without backslash, not all spaces.
pub fn validate_ae_title(text: &str) -> Result<String, DomainError> {
    let trimmed = text.trim();
    let ok = !trimmed.is_empty()
        && trimmed.len() <= 16
        && trimmed
            .chars()
            .all(|c| c.is_ascii_graphic() && c != '\\' || c == ' ');
    if !ok {
        return Err(DomainError::invalid(
            "invalid_ae_title",
            "an AE title is 1-16 printable ASCII characters without backslash",
        ));
    }
    Ok(trimmed.to_owned())
}

/// One received, de-identified instance as the index records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexedInstance {
    pub study_uid: String,
    pub series_uid: String,
    pub sop_uid: String,
    pub sop_class: String,
    pub transfer_syntax: String,
    pub patient_tail: String,
    pub study_date: Option<String>,
    pub modality: Option<String>,
    pub body_part: Option<String>,
    pub study_description: Option<String>,
    pub series_description: Option<String>,
    pub series_number: Option<i64>,
    pub instance_number: Option<i64>,
    pub frames: i64,
    pub burned_in_risk: bool,
    /// Held: text was found in its pixels, or it says Burned In Annotation YES. Its study is
    /// not shared until redacted or confirmed clean.
    pub held: bool,
    /// Where text was found (never the text itself).
    pub text_regions: Vec<TextRegion>,
    pub size: i64,
}

/// A rectangle of text found in a frame, in that frame's pixel coordinates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TextRegion {
    /// The frame (0-based).
    pub frame: u32,
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
}

/// A study in an organization's image inbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Study {
    pub id: Uuid,
    pub org_id: Uuid,
    /// The de-identified Study Instance UID.
    pub study_uid: String,
    /// The last digits of the patient ID the organization's policy shows, e.g. `5678`.
    pub patient_tail: String,
    pub study_date: Option<String>,
    pub modalities: Vec<String>,
    pub body_part: Option<String>,
    pub description: Option<String>,
    /// The study may show burned-in text (annotations in the pixels).
    pub burned_in_risk: bool,
    pub series_count: i64,
    pub instance_count: i64,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub expired: bool,
    /// Frames in all (a multi-frame instance, e.g. an ultrasound cine, counts each frame).
    pub frame_count: i64,
    /// Instances held because they may show patient information (text found in the pixels,
    /// or Burned In Annotation YES): while any is, the study is not shared.
    pub held_instances: i64,
}

/// A series of a study.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Series {
    pub series_uid: String,
    pub modality: Option<String>,
    pub series_number: Option<i64>,
    pub description: Option<String>,
    pub body_part: Option<String>,
    pub instance_count: i64,
}

/// An instance of a series.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Instance {
    pub series_uid: String,
    pub sop_uid: String,
    pub sop_class: String,
    pub instance_number: Option<i64>,
    pub frames: i64,
    pub transfer_syntax: String,
    pub size: i64,
    /// Held (see [`Study::held_instances`]).
    pub held: bool,
    /// Where text was found, in its frames' pixel coordinates.
    pub text_regions: Vec<TextRegion>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_contain_what_they_should() {
        let lan = AddressRange::parse("10.1.2.0/24").unwrap();
        assert!(lan.contains("10.1.2.77".parse().unwrap()));
        assert!(!lan.contains("10.1.3.1".parse().unwrap()));
        assert!(
            lan.contains("::ffff:10.1.2.9".parse().unwrap()),
            "IPv4-mapped"
        );
        assert!(
            AddressRange::parse("127.0.0.1")
                .unwrap()
                .contains("127.0.0.1".parse().unwrap())
        );
        assert!(
            AddressRange::parse("0.0.0.0/0")
                .unwrap()
                .contains("8.8.8.8".parse().unwrap())
        );
        assert!(
            AddressRange::parse("fd00::/8")
                .unwrap()
                .contains("fd12::1".parse().unwrap())
        );
        assert!(AddressRange::parse("10.0.0.0/33").is_err());
        assert!(AddressRange::parse("ct-room").is_err());
    }

    #[test]
    fn ae_titles_are_checked() {
        assert_eq!(validate_ae_title(" CT01 ").unwrap(), "CT01");
        assert!(validate_ae_title("").is_err());
        assert!(validate_ae_title("A\\B").is_err());
        assert!(validate_ae_title("SEVENTEEN_CHARS_X").is_err());
    }

    #[test]
    fn peers_admit_only_their_ranges() {
        let peer = NewDicomPeer {
            ae_title: "CT01".into(),
            allow: vec!["10.1.2.0/24".into()],
            allow_any_address: false,
        }
        .build(Uuid::nil(), Timestamp(0))
        .unwrap();
        assert!(peer.admits("10.1.2.3".parse().unwrap()));
        assert!(!peer.admits("10.9.9.9".parse().unwrap()));
        let unsaid = NewDicomPeer {
            ae_title: "PACS".into(),
            allow: vec![" ".into()],
            allow_any_address: false,
        };
        assert_eq!(
            unsaid.build(Uuid::nil(), Timestamp(0)).unwrap_err().code(),
            "allow_required",
            "any address only when asked for"
        );
        let anywhere = NewDicomPeer {
            allow_any_address: true,
            ..unsaid
        }
        .build(Uuid::nil(), Timestamp(0))
        .unwrap();
        assert!(anywhere.admits("10.9.9.9".parse().unwrap()));
    }
}
