//! Upper-layer PDUs on the wire: one length-checked PDU at a time, decoded with dicom-ul.

use std::time::Duration;

use dicom_ul::pdu::{
    AbortRQServiceProviderReason, AbortRQSource, MAXIMUM_PDU_SIZE, MINIMUM_PDU_SIZE,
    PDU_HEADER_SIZE, PDataValue, PDataValueType,
};
use dicom_ul::{Pdu, read_pdu, write_pdu};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::error::ScpError;

/// The longest A-ASSOCIATE-RQ (or any PDU other than P-DATA-TF) we read: a proposal of every
/// storage SOP class with several transfer syntaxes each stays far below this.
pub const MAX_CONTROL_PDU_LENGTH: u32 = 256 * 1024;

const P_DATA_TF: u8 = 0x04;
/// A PDV item's length (4 bytes), presentation context id and message control header.
const ITEM_HEADER: u32 = 6;

/// Runs one read of the PDU layer under `timeout` (a peer that stops sending is
/// [`ScpError::Timeout`]).
pub async fn timed<T>(
    timeout: Duration,
    work: impl std::future::Future<Output = Result<T, ScpError>>,
) -> Result<T, ScpError> {
    match tokio::time::timeout(timeout, work).await {
        Ok(result) => result,
        Err(_) => Err(ScpError::Timeout),
    }
}

/// Reads the next PDU. P-DATA-TF may be up to `max_pdu_length` bytes long, other PDUs up to
/// [`MAX_CONTROL_PDU_LENGTH`]; anything longer is refused before its body is read.
pub async fn read<S>(stream: &mut S, max_pdu_length: u32) -> Result<Pdu, ScpError>
where
    S: AsyncRead + Unpin,
{
    let header = read_header(stream, max_pdu_length).await?;
    read_body(stream, header).await
}

/// The 6-byte header every PDU starts with, its length checked against its limit.
#[derive(Debug, Clone, Copy)]
pub struct Header {
    bytes: [u8; PDU_HEADER_SIZE as usize],
    /// The length of what follows the header.
    pub length: u32,
    limit: u32,
}

impl Header {
    /// Whether this is a P-DATA-TF, whose items are read one by one ([`read_item`]).
    pub fn is_pdata(&self) -> bool {
        self.bytes[0] == P_DATA_TF
    }
}

/// Reads the next PDU's header. P-DATA-TF may be up to `max_pdu_length` bytes long, other PDUs
/// up to [`MAX_CONTROL_PDU_LENGTH`]; anything longer is refused before its body is read.
pub async fn read_header<S>(stream: &mut S, max_pdu_length: u32) -> Result<Header, ScpError>
where
    S: AsyncRead + Unpin,
{
    let mut bytes = [0u8; PDU_HEADER_SIZE as usize];
    if let Err(error) = stream.read_exact(&mut bytes).await {
        return Err(match error.kind() {
            std::io::ErrorKind::UnexpectedEof => ScpError::PeerClosed,
            _ => ScpError::Io(error),
        });
    }
    let length = u32::from_be_bytes([bytes[2], bytes[3], bytes[4], bytes[5]]);
    let limit = if bytes[0] == P_DATA_TF {
        max_pdu_length
    } else {
        MAX_CONTROL_PDU_LENGTH
    };
    if length > limit {
        return Err(ScpError::PduTooLarge { length, limit });
    }
    Ok(Header {
        bytes,
        length,
        limit,
    })
}

/// Reads the body of a PDU whose header was read, and decodes the whole PDU.
pub async fn read_body<S>(stream: &mut S, header: Header) -> Result<Pdu, ScpError>
where
    S: AsyncRead + Unpin,
{
    let mut whole = Vec::with_capacity(header.bytes.len() + header.length as usize);
    whole.extend_from_slice(&header.bytes);
    read_into(stream, &mut whole, header.length as usize).await?;
    decode(&whole, header.limit)
}

/// One presentation data value item of a P-DATA-TF: its header; its data follows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub context_id: u8,
    pub value_type: PDataValueType,
    pub is_last: bool,
    /// Bytes of data that follow.
    pub data_length: u32,
}

/// The item header at the start of what is `left` of a P-DATA-TF body; errors for an item
/// that does not fit in what is left.
pub async fn read_item<S>(stream: &mut S, left: u32) -> Result<Item, ScpError>
where
    S: AsyncRead + Unpin,
{
    if left < ITEM_HEADER {
        return Err(ScpError::MalformedPdu("a PDV item overruns its PDU".into()));
    }
    let mut bytes = [0u8; ITEM_HEADER as usize];
    stream.read_exact(&mut bytes).await.map_err(within_pdu)?;
    let length = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    // The length counts the context id and the control header.
    if length < 2 || length > left - 4 {
        return Err(ScpError::MalformedPdu("a PDV item overruns its PDU".into()));
    }
    let control = bytes[5];
    Ok(Item {
        context_id: bytes[4],
        value_type: if control & 0x01 != 0 {
            PDataValueType::Command
        } else {
            PDataValueType::Data
        },
        is_last: control & 0x02 != 0,
        data_length: length - 2,
    })
}

impl Item {
    /// Bytes the item takes in its PDU, header included.
    pub fn size(&self) -> u32 {
        self.data_length + ITEM_HEADER
    }
}

/// Appends exactly `length` bytes from the stream to `into`, without zero-filling first.
pub async fn read_into<S>(stream: &mut S, into: &mut Vec<u8>, length: usize) -> Result<(), ScpError>
where
    S: AsyncRead + Unpin,
{
    into.reserve(length);
    let read = (&mut *stream)
        .take(length as u64)
        .read_to_end(into)
        .await
        .map_err(within_pdu)?;
    if read < length {
        return Err(cut_off());
    }
    Ok(())
}

/// Reads and drops `length` bytes.
pub async fn skip<S>(stream: &mut S, length: usize) -> Result<(), ScpError>
where
    S: AsyncRead + Unpin,
{
    let skipped = tokio::io::copy(
        &mut (&mut *stream).take(length as u64),
        &mut tokio::io::sink(),
    )
    .await
    .map_err(within_pdu)?;
    if skipped < length as u64 {
        return Err(cut_off());
    }
    Ok(())
}

fn cut_off() -> ScpError {
    ScpError::MalformedPdu("connection closed within a PDU".into())
}

fn within_pdu(error: std::io::Error) -> ScpError {
    match error.kind() {
        std::io::ErrorKind::UnexpectedEof => cut_off(),
        _ => ScpError::Io(error),
    }
}

/// Decodes one complete PDU (header included); errors for anything short or inconsistent.
pub fn decode(whole: &[u8], limit: u32) -> Result<Pdu, ScpError> {
    let limit = limit.clamp(MINIMUM_PDU_SIZE, MAXIMUM_PDU_SIZE);
    match read_pdu(whole, limit, true) {
        Ok(Some(pdu)) => Ok(pdu),
        // The whole PDU was there: "need more bytes" means an item overruns its PDU.
        Ok(None) => Err(ScpError::MalformedPdu("an item overruns its PDU".into())),
        Err(error) => Err(ScpError::MalformedPdu(error.to_string())),
    }
}

/// Writes one PDU.
pub async fn write<S>(stream: &mut S, pdu: &Pdu, timeout: Duration) -> Result<(), ScpError>
where
    S: AsyncWrite + Unpin,
{
    let mut bytes = Vec::with_capacity(512);
    write_pdu(&mut bytes, pdu)
        .map_err(|error| ScpError::MalformedPdu(format!("cannot encode PDU: {error}")))?;
    let send = async {
        stream.write_all(&bytes).await?;
        stream.flush().await
    };
    match tokio::time::timeout(timeout, send).await {
        Ok(result) => result.map_err(ScpError::Io),
        Err(_) => Err(ScpError::Timeout),
    }
}

/// An A-ABORT from us, the service provider.
pub fn abort(reason: AbortRQServiceProviderReason) -> Pdu {
    Pdu::AbortRQ {
        source: AbortRQSource::ServiceProvider(reason),
    }
}

/// The A-ABORT reason that fits an error ending the association.
pub fn abort_reason(error: &ScpError) -> AbortRQServiceProviderReason {
    match error {
        ScpError::PduTooLarge { .. } | ScpError::MalformedPdu(_) => {
            AbortRQServiceProviderReason::InvalidPduParameter
        }
        ScpError::UnexpectedPdu(_) => AbortRQServiceProviderReason::UnexpectedPdu,
        ScpError::Protocol(_) => AbortRQServiceProviderReason::UnexpectedPduParameter,
        _ => AbortRQServiceProviderReason::ReasonNotSpecified,
    }
}

/// P-DATA-TF PDUs carrying `command` on presentation context `context_id`, each within the
/// peer's maximum PDU length (0: no limit).
pub fn command_pdus(context_id: u8, command: &[u8], peer_max_pdu_length: u32) -> Vec<Pdu> {
    // A PDV item adds 4 bytes of length and 2 of header to its fragment.
    let room = match peer_max_pdu_length {
        0 => usize::MAX,
        max => usize::try_from(max.saturating_sub(6).max(2)).unwrap_or(usize::MAX),
    };
    let chunks: Vec<&[u8]> = command.chunks(room.max(1)).collect();
    let count = chunks.len();
    chunks
        .into_iter()
        .enumerate()
        .map(|(index, chunk)| Pdu::PData {
            data: vec![PDataValue {
                presentation_context_id: context_id,
                value_type: PDataValueType::Command,
                is_last: index + 1 == count,
                data: chunk.to_vec(),
            }],
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded(pdu: &Pdu) -> Vec<u8> {
        let mut bytes = Vec::new();
        write_pdu(&mut bytes, pdu).expect("encodes");
        bytes
    }

    #[tokio::test]
    async fn a_pdu_round_trips_through_the_reader() {
        let pdu = command_pdus(1, b"0123456789", 0).remove(0);
        let bytes = encoded(&pdu);
        let read = read(&mut bytes.as_slice(), 16_384).await.expect("reads");
        assert_eq!(read, pdu);
    }

    #[tokio::test]
    async fn oversized_and_truncated_pdus_are_errors() {
        let pdu = command_pdus(1, &[7u8; 4000], 0).remove(0);
        let bytes = encoded(&pdu);
        let too_large = read(&mut bytes.as_slice(), 2_000).await;
        assert!(matches!(too_large, Err(ScpError::PduTooLarge { .. })));
        let truncated = read(&mut &bytes[..100], 16_384).await;
        assert!(matches!(truncated, Err(ScpError::MalformedPdu(_))));
        let empty = read(&mut &bytes[..0], 16_384).await;
        assert!(matches!(empty, Err(ScpError::PeerClosed)));
    }

    #[tokio::test]
    async fn items_that_overrun_their_pdu_or_are_cut_off_are_errors() {
        // Length 200 in a PDU with 8 bytes left.
        let item = [0, 0, 0, 200, 1, 0x03, 1, 2];
        let overrun = read_item(&mut &item[..], 8).await;
        assert!(
            matches!(overrun, Err(ScpError::MalformedPdu(_))),
            "{overrun:?}"
        );
        let too_short = read_item(&mut &item[..], 5).await;
        assert!(matches!(too_short, Err(ScpError::MalformedPdu(_))));
        // A last data fragment of 2 bytes.
        let fits = read_item(&mut &[0, 0, 0, 4, 3, 0x02][..], 8).await;
        let fits = fits.expect("reads");
        assert_eq!(
            (fits.context_id, fits.is_last, fits.data_length, fits.size()),
            (3, true, 2, 8)
        );
        assert_eq!(fits.value_type, PDataValueType::Data);
        // Data cut off by the peer closing: appended bytes are not taken as the whole.
        let mut into = b"meta".to_vec();
        let cut = read_into(&mut &[1u8, 2, 3][..], &mut into, 10).await;
        assert!(matches!(cut, Err(ScpError::MalformedPdu(_))));
        let mut into = b"meta".to_vec();
        read_into(&mut &[1u8, 2, 3, 4][..], &mut into, 3)
            .await
            .expect("reads");
        assert_eq!(into, b"meta\x01\x02\x03");
        let skipped = skip(&mut &[0u8; 3][..], 10).await;
        assert!(matches!(skipped, Err(ScpError::MalformedPdu(_))));
    }

    #[test]
    fn garbage_never_panics_the_decoder() {
        // A small deterministic generator: the same bytes on every run.
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let templates = [
            encoded(&command_pdus(1, &[1u8; 64], 0).remove(0)),
            encoded(&abort(AbortRQServiceProviderReason::UnexpectedPdu)),
        ];
        for round in 0..20_000 {
            let mut bytes = match round % 3 {
                0 => templates[0].clone(),
                1 => templates[1].clone(),
                _ => (0..(next() % 200) as usize).map(|_| next() as u8).collect(),
            };
            if !bytes.is_empty() {
                for _ in 0..(next() % 4 + 1) {
                    let at = (next() as usize) % bytes.len();
                    bytes[at] = next() as u8;
                }
                if round % 3 == 1 {
                    bytes[0] = (next() % 8) as u8;
                }
            }
            let _ = decode(&bytes, 16_384);
        }
    }

    #[test]
    fn commands_are_split_to_fit_the_peer() {
        let pdus = command_pdus(3, &[0u8; 100], 1_024 + 6);
        assert_eq!(pdus.len(), 1);
        let pdus = command_pdus(3, &[0u8; 3000], 1_030);
        assert_eq!(pdus.len(), 3);
        let last = pdus
            .iter()
            .filter(|pdu| matches!(pdu, Pdu::PData { data } if data.iter().all(|pdv| pdv.is_last)));
        assert_eq!(last.count(), 1);
    }
}
