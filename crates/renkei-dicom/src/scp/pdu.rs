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

/// Reads the next PDU. P-DATA-TF may be up to `max_pdu_length` bytes long, other PDUs up to
/// [`MAX_CONTROL_PDU_LENGTH`]; anything longer is refused before its body is read.
pub async fn read<S>(
    stream: &mut S,
    max_pdu_length: u32,
    timeout: Duration,
) -> Result<Pdu, ScpError>
where
    S: AsyncRead + Unpin,
{
    match tokio::time::timeout(timeout, read_untimed(stream, max_pdu_length)).await {
        Ok(result) => result,
        Err(_) => Err(ScpError::Timeout),
    }
}

async fn read_untimed<S>(stream: &mut S, max_pdu_length: u32) -> Result<Pdu, ScpError>
where
    S: AsyncRead + Unpin,
{
    let mut header = [0u8; PDU_HEADER_SIZE as usize];
    if let Err(error) = stream.read_exact(&mut header).await {
        return Err(match error.kind() {
            std::io::ErrorKind::UnexpectedEof => ScpError::PeerClosed,
            _ => ScpError::Io(error),
        });
    }
    let pdu_type = header[0];
    let length = u32::from_be_bytes([header[2], header[3], header[4], header[5]]);
    let limit = if pdu_type == P_DATA_TF {
        max_pdu_length
    } else {
        MAX_CONTROL_PDU_LENGTH
    };
    if length > limit {
        return Err(ScpError::PduTooLarge { length, limit });
    }
    let body_length = usize::try_from(length).map_err(|_| ScpError::PduTooLarge {
        length,
        limit: u32::MAX,
    })?;
    let mut whole = Vec::with_capacity(header.len() + body_length);
    whole.extend_from_slice(&header);
    whole.resize(header.len() + body_length, 0);
    if let Err(error) = stream.read_exact(&mut whole[header.len()..]).await {
        return Err(match error.kind() {
            std::io::ErrorKind::UnexpectedEof => {
                ScpError::MalformedPdu("connection closed within a PDU".into())
            }
            _ => ScpError::Io(error),
        });
    }
    decode(&whole, limit)
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
        let read = read(&mut bytes.as_slice(), 16_384, Duration::from_secs(1))
            .await
            .expect("reads");
        assert_eq!(read, pdu);
    }

    #[tokio::test]
    async fn oversized_and_truncated_pdus_are_errors() {
        let pdu = command_pdus(1, &[7u8; 4000], 0).remove(0);
        let bytes = encoded(&pdu);
        let too_large = read(&mut bytes.as_slice(), 2_000, Duration::from_secs(1)).await;
        assert!(matches!(too_large, Err(ScpError::PduTooLarge { .. })));
        let truncated = read(&mut &bytes[..100], 16_384, Duration::from_secs(1)).await;
        assert!(matches!(truncated, Err(ScpError::MalformedPdu(_))));
        let empty = read(&mut &bytes[..0], 16_384, Duration::from_secs(1)).await;
        assert!(matches!(empty, Err(ScpError::PeerClosed)));
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
