//! DIMSE command sets (group 0000, always Implicit VR Little Endian): reading requests, writing
//! responses.

/// C-STORE-RQ.
pub const C_STORE_RQ: u16 = 0x0001;
/// C-STORE-RSP.
pub const C_STORE_RSP: u16 = 0x8001;
/// C-ECHO-RQ.
pub const C_ECHO_RQ: u16 = 0x0030;
/// C-ECHO-RSP.
pub const C_ECHO_RSP: u16 = 0x8030;
/// C-CANCEL-RQ.
pub const C_CANCEL_RQ: u16 = 0x0FFF;

/// Command Data Set Type meaning "no data set follows".
const NO_DATA_SET: u16 = 0x0101;

const GROUP_LENGTH: u16 = 0x0000;
const AFFECTED_SOP_CLASS_UID: u16 = 0x0002;
const COMMAND_FIELD: u16 = 0x0100;
const MESSAGE_ID: u16 = 0x0110;
const MESSAGE_ID_BEING_RESPONDED_TO: u16 = 0x0120;
const COMMAND_DATA_SET_TYPE: u16 = 0x0800;
const STATUS: u16 = 0x0900;
const ERROR_COMMENT: u16 = 0x0902;
const AFFECTED_SOP_INSTANCE_UID: u16 = 0x1000;

/// Longest Error Comment (LO).
const ERROR_COMMENT_MAX: usize = 64;

/// The parts of a request command set this SCP acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    /// Command Field (0000,0100).
    pub field: u16,
    /// Message ID (0000,0110); absent in C-CANCEL-RQ.
    pub message_id: Option<u16>,
    /// Whether a data set follows (Command Data Set Type (0000,0800) other than 0x0101).
    pub has_data_set: bool,
    /// Affected SOP Class UID (0000,0002), without padding.
    pub affected_sop_class_uid: Option<String>,
    /// Affected SOP Instance UID (0000,1000), without padding.
    pub affected_sop_instance_uid: Option<String>,
}

/// Why a command set could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("malformed command set: {0}")]
pub struct CommandError(pub &'static str);

impl Command {
    /// Reads a complete command set.
    pub fn parse(bytes: &[u8]) -> Result<Command, CommandError> {
        let mut field = None;
        let mut message_id = None;
        let mut data_set_type = None;
        let mut affected_sop_class_uid = None;
        let mut affected_sop_instance_uid = None;
        let mut rest = bytes;
        while !rest.is_empty() {
            let (header, after) = rest
                .split_at_checked(8)
                .ok_or(CommandError("truncated element header"))?;
            let group = u16::from_le_bytes([header[0], header[1]]);
            let element = u16::from_le_bytes([header[2], header[3]]);
            let length = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
            if group != 0x0000 {
                return Err(CommandError("element outside group 0000"));
            }
            let length =
                usize::try_from(length).map_err(|_| CommandError("element length too large"))?;
            let (value, after) = after
                .split_at_checked(length)
                .ok_or(CommandError("element longer than the command set"))?;
            match element {
                COMMAND_FIELD => field = Some(read_us(value)?),
                MESSAGE_ID => message_id = Some(read_us(value)?),
                COMMAND_DATA_SET_TYPE => data_set_type = Some(read_us(value)?),
                AFFECTED_SOP_CLASS_UID => affected_sop_class_uid = read_uid(value),
                AFFECTED_SOP_INSTANCE_UID => affected_sop_instance_uid = read_uid(value),
                _ => {}
            }
            rest = after;
        }
        Ok(Command {
            field: field.ok_or(CommandError("no Command Field"))?,
            message_id,
            has_data_set: data_set_type.ok_or(CommandError("no Command Data Set Type"))?
                != NO_DATA_SET,
            affected_sop_class_uid,
            affected_sop_instance_uid,
        })
    }
}

fn read_us(value: &[u8]) -> Result<u16, CommandError> {
    match value {
        [a, b] => Ok(u16::from_le_bytes([*a, *b])),
        _ => Err(CommandError("US element is not 2 bytes long")),
    }
}

fn read_uid(value: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(value).ok()?;
    let uid = text.trim_matches(['\0', ' ']);
    (!uid.is_empty()).then(|| uid.to_string())
}

/// A response command set to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response<'a> {
    /// Command Field (0000,0100) of the response (`0x8000 | request`).
    pub field: u16,
    /// Message ID Being Responded To (0000,0120).
    pub message_id: u16,
    /// Affected SOP Class UID (0000,0002), if the request had one.
    pub affected_sop_class_uid: Option<&'a str>,
    /// Affected SOP Instance UID (0000,1000), if the request had one.
    pub affected_sop_instance_uid: Option<&'a str>,
    /// Status (0000,0900).
    pub status: u16,
    /// Error Comment (0000,0902), cleaned to printable ASCII and cut to 64 characters.
    pub error_comment: Option<&'a str>,
}

impl Response<'_> {
    /// The command set bytes, Command Group Length first, elements in tag order.
    pub fn encode(&self) -> Vec<u8> {
        let mut body = Vec::with_capacity(256);
        if let Some(uid) = self.affected_sop_class_uid {
            put_element(
                &mut body,
                AFFECTED_SOP_CLASS_UID,
                &padded(uid.as_bytes(), 0),
            );
        }
        put_element(&mut body, COMMAND_FIELD, &self.field.to_le_bytes());
        put_element(
            &mut body,
            MESSAGE_ID_BEING_RESPONDED_TO,
            &self.message_id.to_le_bytes(),
        );
        put_element(&mut body, COMMAND_DATA_SET_TYPE, &NO_DATA_SET.to_le_bytes());
        put_element(&mut body, STATUS, &self.status.to_le_bytes());
        if let Some(comment) = self.error_comment.map(clean_comment)
            && !comment.is_empty()
        {
            put_element(&mut body, ERROR_COMMENT, &padded(comment.as_bytes(), b' '));
        }
        if let Some(uid) = self.affected_sop_instance_uid {
            put_element(
                &mut body,
                AFFECTED_SOP_INSTANCE_UID,
                &padded(uid.as_bytes(), 0),
            );
        }
        let mut out = Vec::with_capacity(body.len() + 12);
        let body_length = u32::try_from(body.len()).unwrap_or(u32::MAX);
        put_element(&mut out, GROUP_LENGTH, &body_length.to_le_bytes());
        out.extend_from_slice(&body);
        out
    }
}

fn put_element(out: &mut Vec<u8>, element: u16, value: &[u8]) {
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&element.to_le_bytes());
    let length = u32::try_from(value.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&length.to_le_bytes());
    out.extend_from_slice(value);
}

fn padded(value: &[u8], pad: u8) -> Vec<u8> {
    let mut out = value.to_vec();
    if out.len() % 2 == 1 {
        out.push(pad);
    }
    out
}

/// Printable ASCII without backslash, at most 64 characters, trimmed.
fn clean_comment(comment: &str) -> String {
    let cleaned: String = comment
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '\\' || c == ' ' {
                c
            } else {
                '?'
            }
        })
        .take(ERROR_COMMENT_MAX)
        .collect();
    cleaned.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn element(element: u16, value: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        put_element(&mut out, element, value);
        out
    }

    fn store_request() -> Vec<u8> {
        let mut bytes = Vec::new();
        bytes.extend(element(GROUP_LENGTH, &0u32.to_le_bytes()));
        bytes.extend(element(
            AFFECTED_SOP_CLASS_UID,
            b"1.2.840.10008.5.1.4.1.1.2\0",
        ));
        bytes.extend(element(COMMAND_FIELD, &C_STORE_RQ.to_le_bytes()));
        bytes.extend(element(MESSAGE_ID, &7u16.to_le_bytes()));
        bytes.extend(element(0x0700, &0u16.to_le_bytes()));
        bytes.extend(element(COMMAND_DATA_SET_TYPE, &0u16.to_le_bytes()));
        bytes.extend(element(AFFECTED_SOP_INSTANCE_UID, b"1.2.3.4"));
        bytes
    }

    #[test]
    fn a_store_request_is_read() {
        let command = Command::parse(&store_request()).expect("parses");
        assert_eq!(
            command,
            Command {
                field: C_STORE_RQ,
                message_id: Some(7),
                has_data_set: true,
                affected_sop_class_uid: Some("1.2.840.10008.5.1.4.1.1.2".into()),
                affected_sop_instance_uid: Some("1.2.3.4".into()),
            }
        );
    }

    #[test]
    fn every_truncation_is_an_error_not_a_panic() {
        let bytes = store_request();
        for cut in 1..bytes.len() {
            let _ = Command::parse(&bytes[..cut]);
        }
        assert!(Command::parse(&bytes[..bytes.len() - 3]).is_err());
        let mut wrong_group = store_request();
        wrong_group[0] = 8;
        assert!(Command::parse(&wrong_group).is_err());
        let mut huge = store_request();
        huge[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(Command::parse(&huge).is_err());
    }

    #[test]
    fn a_response_reads_back_with_its_group_length() {
        let response = Response {
            field: C_STORE_RSP,
            message_id: 7,
            affected_sop_class_uid: Some("1.2.840.10008.5.1.4.1.1.2"),
            affected_sop_instance_uid: Some("1.2.3.4"),
            status: 0xA700,
            error_comment: Some("disk\\full\u{e9}"),
        };
        let bytes = response.encode();
        assert_eq!(bytes.len() % 2, 0);
        let group_length = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
        assert_eq!(group_length as usize, bytes.len() - 12);
        assert!(bytes.windows(9).any(|w| w == b"disk?full"));
        let read = Command::parse(&bytes).expect("parses");
        assert_eq!(read.field, C_STORE_RSP);
        assert!(!read.has_data_set);
        assert_eq!(read.affected_sop_instance_uid.as_deref(), Some("1.2.3.4"));
    }

    #[test]
    fn comments_are_cut_to_64_characters() {
        assert_eq!(clean_comment(&"x".repeat(100)).len(), 64);
        assert_eq!(clean_comment(" ok "), "ok");
    }
}
