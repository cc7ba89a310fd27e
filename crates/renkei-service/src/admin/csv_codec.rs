//! CSV as Japanese hospitals exchange it: read UTF-8 (with or without BOM) or Shift_JIS;
//! write UTF-8 with a BOM (so Excel shows Japanese) with formula-like cells neutralized.

use std::borrow::Cow;

/// Why a file could not be read as text.
#[derive(Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// UTF-16 or UTF-32 (a BOM says so): save as UTF-8 or Shift_JIS.
    Unsupported,
    /// Neither valid UTF-8 nor valid Shift_JIS.
    Invalid,
}

/// The file's text and the encoding it was in (`utf-8`, `utf-8-bom`, `shift_jis`).
pub fn decode(bytes: &[u8]) -> Result<(Cow<'_, str>, &'static str), DecodeError> {
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return std::str::from_utf8(rest)
            .map(|t| (Cow::Borrowed(t), "utf-8-bom"))
            .map_err(|_| DecodeError::Invalid);
    }
    if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
        return Err(DecodeError::Unsupported);
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok((Cow::Borrowed(text), "utf-8"));
    }
    shift_jis(bytes)
        .map(|t| (Cow::Owned(t), "shift_jis"))
        .ok_or(DecodeError::Invalid)
}

/// Shift_JIS bytes as text, or `None` at the first byte sequence that is not Shift_JIS.
fn shift_jis(bytes: &[u8]) -> Option<String> {
    use encoding_rs::DecoderResult;
    let mut decoder = encoding_rs::SHIFT_JIS.new_decoder_without_bom_handling();
    let capacity = decoder.max_utf8_buffer_length_without_replacement(bytes.len())?;
    let mut buffer = vec![0u8; capacity];
    let out = std::str::from_utf8_mut(&mut buffer).ok()?;
    let (result, read, written) = decoder.decode_to_str_without_replacement(bytes, out, true);
    if result != DecoderResult::InputEmpty || read != bytes.len() {
        return None;
    }
    buffer.truncate(written);
    String::from_utf8(buffer).ok()
}

/// Characters that make a spreadsheet treat a cell as a formula when they lead it.
const FORMULA_LEADS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// A cell made safe for spreadsheets: a leading formula character gets a `'` before it.
pub fn escape_cell(value: &str) -> Cow<'_, str> {
    match value.chars().next() {
        Some(c) if FORMULA_LEADS.contains(&c) => Cow::Owned(format!("'{value}")),
        _ => Cow::Borrowed(value),
    }
}

/// The value of a cell written by [`escape_cell`] (so exports import back unchanged).
pub fn unescape_cell(value: &str) -> &str {
    match value.strip_prefix('\'') {
        Some(rest) if rest.starts_with(FORMULA_LEADS) => rest,
        _ => value,
    }
}

/// Writes rows as CSV (UTF-8 with BOM, CRLF line ends), every cell escaped.
pub fn write<I, R, C>(header: &[&str], rows: I) -> Vec<u8>
where
    I: IntoIterator<Item = R>,
    R: IntoIterator<Item = C>,
    C: AsRef<str>,
{
    let mut out = b"\xEF\xBB\xBF".to_vec();
    {
        let mut writer = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(&mut out);
        let _ = writer.write_record(header);
        for row in rows {
            let cells: Vec<String> = row
                .into_iter()
                .map(|c| escape_cell(c.as_ref()).into_owned())
                .collect();
            let _ = writer.write_record(&cells);
        }
        let _ = writer.flush();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_utf8_bom_and_shift_jis() {
        // 田中,医師 in Shift_JIS.
        let sjis = b"\x93\x63\x92\x86,\x88\xe3\x8e\x74";
        assert_eq!(
            decode(sjis).unwrap(),
            (Cow::Borrowed("田中,医師"), "shift_jis")
        );
        let bom = [b"\xEF\xBB\xBF".as_slice(), "田中".as_bytes()].concat();
        assert_eq!(decode(&bom).unwrap().0, "田中");
        assert_eq!(decode("田中".as_bytes()).unwrap().1, "utf-8");
        assert_eq!(
            decode(b"\xFF\xFEa\0").unwrap_err(),
            DecodeError::Unsupported
        );
        assert_eq!(decode(b"\x82\xFF\xFF").unwrap_err(), DecodeError::Invalid);
    }

    #[test]
    fn formula_cells_are_neutralized_and_restored() {
        for cell in ["=1+1", "+81 97", "-3", "@SUM(A1)", "\tx", "\rx"] {
            let escaped = escape_cell(cell);
            assert!(escaped.starts_with('\''), "{cell:?}");
            assert_eq!(unescape_cell(&escaped), cell);
        }
        assert_eq!(escape_cell("田中"), "田中");
        assert_eq!(unescape_cell("'quoted"), "'quoted");
        let out = write(&["a"], [["=cmd|' /C calc'!A0"]]);
        assert!(out.starts_with(b"\xEF\xBB\xBFa\r\n'=cmd"));
    }
}
