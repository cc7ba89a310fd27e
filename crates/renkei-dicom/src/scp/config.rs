//! What the SCP accepts: its AE title, PDU and instance sizes, transfer syntaxes, limits, timeouts.

use std::sync::Arc;
use std::time::Duration;

use crate::inflight::InFlight;

use super::error::ScpError;
use super::transport::Transport;

/// Implicit VR Little Endian: the default transfer syntax every SCU may fall back to.
pub const IMPLICIT_VR_LITTLE_ENDIAN: &str = "1.2.840.10008.1.2";
/// Explicit VR Little Endian.
pub const EXPLICIT_VR_LITTLE_ENDIAN: &str = "1.2.840.10008.1.2.1";
/// Deflated Explicit VR Little Endian.
pub const DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN: &str = "1.2.840.10008.1.2.1.99";
/// Explicit VR Big Endian (retired, still sent by old modalities).
pub const EXPLICIT_VR_BIG_ENDIAN: &str = "1.2.840.10008.1.2.2";
/// JPEG Baseline (Process 1).
pub const JPEG_BASELINE: &str = "1.2.840.10008.1.2.4.50";
/// JPEG Extended (Process 2 & 4).
pub const JPEG_EXTENDED: &str = "1.2.840.10008.1.2.4.51";
/// JPEG Lossless, Non-Hierarchical (Process 14).
pub const JPEG_LOSSLESS: &str = "1.2.840.10008.1.2.4.57";
/// JPEG Lossless, Non-Hierarchical, First-Order Prediction (Process 14, Selection Value 1).
pub const JPEG_LOSSLESS_SV1: &str = "1.2.840.10008.1.2.4.70";
/// JPEG-LS Lossless.
pub const JPEG_LS_LOSSLESS: &str = "1.2.840.10008.1.2.4.80";
/// JPEG-LS Lossy (Near-Lossless).
pub const JPEG_LS_NEAR_LOSSLESS: &str = "1.2.840.10008.1.2.4.81";
/// JPEG 2000 Image Compression (Lossless Only).
pub const JPEG_2000_LOSSLESS: &str = "1.2.840.10008.1.2.4.90";
/// JPEG 2000 Image Compression (lossless or lossy).
pub const JPEG_2000: &str = "1.2.840.10008.1.2.4.91";
/// RLE Lossless.
pub const RLE_LOSSLESS: &str = "1.2.840.10008.1.2.5";

/// The transfer syntaxes accepted by default, in our order of preference when an SCU's
/// proposal does not settle it (the SCU's first supported proposal wins).
pub const DEFAULT_TRANSFER_SYNTAXES: &[&str] = &[
    EXPLICIT_VR_LITTLE_ENDIAN,
    IMPLICIT_VR_LITTLE_ENDIAN,
    DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN,
    EXPLICIT_VR_BIG_ENDIAN,
    JPEG_BASELINE,
    JPEG_EXTENDED,
    JPEG_LOSSLESS,
    JPEG_LOSSLESS_SV1,
    JPEG_LS_LOSSLESS,
    JPEG_LS_NEAR_LOSSLESS,
    JPEG_2000_LOSSLESS,
    JPEG_2000,
    RLE_LOSSLESS,
];

/// The smallest maximum PDU length the upper layer allows (PS3.8 9.3.1: 1024 minus the header).
pub const MIN_PDU_LENGTH: u32 = 1_018;
/// The largest maximum PDU length this SCP will announce (16 MiB: bounds each PDU buffer).
pub const MAX_PDU_LENGTH: u32 = 16 * 1024 * 1024;

/// The default largest data set: 256 MiB (a large multi-frame; whole-slide images need more).
pub const DEFAULT_MAX_INSTANCE_SIZE: u64 = 256 * 1024 * 1024;

/// How the SCP runs. [`ScpConfig::default`] is a sensible production setting.
#[derive(Debug, Clone)]
pub struct ScpConfig {
    /// Our Application Entity title: an A-ASSOCIATE-RQ naming another called AE is rejected.
    pub ae_title: String,
    /// The maximum P-DATA-TF PDU length we announce and accept (bytes of the variable field).
    pub max_pdu_length: u32,
    /// Associations served at once; further ones are rejected as "local limit exceeded".
    pub max_associations: usize,
    /// Transfer syntax UIDs accepted for storage (Verification takes the little-endian ones).
    pub transfer_syntaxes: Vec<String>,
    /// How long to wait for each PDU (the A-ASSOCIATE-RQ included) before aborting.
    pub read_timeout: Duration,
    /// Bytes of one data set above which the instance is refused with Out of Resources.
    pub max_instance_size: u64,
    /// The memory budget and spill files of data in flight, shared with STOW-RS: data sets
    /// above its threshold, or arriving while its memory is spent, go to sealed spill files.
    pub inflight: Arc<InFlight>,
    /// After shutdown is asked, how long associations may go on before they are aborted.
    pub shutdown_grace: Duration,
    /// Plain TCP, or TLS (PS3.15 Annex B) on a listener of its own.
    pub transport: Transport,
}

impl Default for ScpConfig {
    fn default() -> Self {
        ScpConfig {
            ae_title: "RENKEI".to_string(),
            max_pdu_length: 128 * 1024,
            max_associations: 64,
            transfer_syntaxes: DEFAULT_TRANSFER_SYNTAXES
                .iter()
                .map(|ts| ts.to_string())
                .collect(),
            read_timeout: Duration::from_secs(60),
            max_instance_size: DEFAULT_MAX_INSTANCE_SIZE,
            inflight: InFlight::in_temp_dir(),
            shutdown_grace: Duration::from_secs(30),
            transport: Transport::Plain,
        }
    }
}

impl ScpConfig {
    /// Checks that the settings can work; `serve` refuses to start otherwise.
    pub fn validate(&self) -> Result<(), ScpError> {
        let title = self.ae_title.trim();
        if title.is_empty()
            || title.len() > 16
            || !title
                .bytes()
                .all(|b| (0x20..0x7f).contains(&b) && b != b'\\')
        {
            return Err(ScpError::config(
                "ae_title must be 1 to 16 printable ASCII characters without backslash",
            ));
        }
        if !(MIN_PDU_LENGTH..=MAX_PDU_LENGTH).contains(&self.max_pdu_length) {
            return Err(ScpError::config(
                "max_pdu_length must be between 1018 and 16 MiB",
            ));
        }
        if self.max_associations == 0 {
            return Err(ScpError::config("max_associations must be at least 1"));
        }
        if self.transfer_syntaxes.is_empty() {
            return Err(ScpError::config(
                "at least one transfer syntax must be accepted",
            ));
        }
        if self.read_timeout.is_zero() {
            return Err(ScpError::config("read_timeout must not be zero"));
        }
        if self.max_instance_size == 0 {
            return Err(ScpError::config("max_instance_size must not be zero"));
        }
        if self.max_instance_size > self.inflight.memory().limit() {
            // A complete instance is worked on in memory: a larger one could never be.
            return Err(ScpError::config(
                "max_instance_size must not exceed the memory budget of data in flight",
            ));
        }
        Ok(())
    }

    /// Whether `transfer_syntax` is one we accept.
    pub fn accepts_transfer_syntax(&self, transfer_syntax: &str) -> bool {
        self.transfer_syntaxes
            .iter()
            .any(|ts| ts == transfer_syntax)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_is_valid() {
        assert!(ScpConfig::default().validate().is_ok());
    }

    #[test]
    fn bad_settings_are_refused() {
        let bad = [
            ScpConfig {
                ae_title: "   ".into(),
                ..ScpConfig::default()
            },
            ScpConfig {
                ae_title: "A_TITLE_LONGER_THAN_16".into(),
                ..ScpConfig::default()
            },
            ScpConfig {
                max_pdu_length: 512,
                ..ScpConfig::default()
            },
            ScpConfig {
                max_associations: 0,
                ..ScpConfig::default()
            },
            ScpConfig {
                transfer_syntaxes: Vec::new(),
                ..ScpConfig::default()
            },
        ];
        for config in bad {
            let Err(error) = config.validate() else {
                panic!("accepted {config:?}");
            };
            assert_eq!(error.code(), "scp_config_invalid");
        }
    }
}
