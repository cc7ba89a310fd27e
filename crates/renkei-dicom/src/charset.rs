//! Text decoding for ISO 2022 code extensions (Japanese, Korean, Chinese) and the final UTF-8 switch.
//!
//! dicom-rs decodes a data set with the first value of Specific Character Set only. With code
//! extensions (`\ISO 2022 IR 87`, `ISO 2022 IR 13\ISO 2022 IR 87`, `\ISO 2022 IR 149`) the
//! ideographic and phonetic parts of a name then arrive as escape-sequence garbage. Before
//! de-identification we recover the raw bytes and decode them properly, so that name components
//! can be recognised in descriptions and any text we keep is written back correctly as UTF-8.

use dicom_core::header::Header;
use dicom_core::value::{C, PrimitiveValue, Value};
use dicom_core::{DataElement, Tag, VR};
use dicom_encoding::text::{SpecificCharacterSet, TextCodec};
use dicom_object::InMemDicomObject;
use encoding::all::{
    EUC_JP, GBK, ISO_8859_1, ISO_8859_2, ISO_8859_3, ISO_8859_4, ISO_8859_5, ISO_8859_6,
    ISO_8859_7, ISO_8859_8, WINDOWS_874, WINDOWS_949, WINDOWS_1254,
};
use encoding::{DecoderTrap, EncodingRef};

/// Specific Character Set.
pub const SPECIFIC_CHARACTER_SET: Tag = Tag(0x0008, 0x0005);

/// The value representations whose text follows Specific Character Set (PS3.5 6.1.2.3).
pub fn is_charset_text(vr: VR) -> bool {
    matches!(
        vr,
        VR::SH | VR::LO | VR::ST | VR::LT | VR::UC | VR::UT | VR::PN
    )
}

/// The Specific Character Set values of a data set, if it declares one.
pub fn declared_charset(obj: &InMemDicomObject) -> Option<Vec<String>> {
    let element = obj.get(SPECIFIC_CHARACTER_SET)?;
    let values = element.value().to_multi_str().ok()?;
    Some(values.iter().map(|v| v.trim().to_string()).collect())
}

/// Re-decode every charset-sensitive text value in data sets that use ISO 2022 code extensions,
/// recursively, replacing the strings dicom-rs produced with their proper Unicode text.
pub fn redecode_code_extensions(obj: &mut InMemDicomObject, inherited: &[String]) {
    let own = declared_charset(obj);
    let charset: &[String] = own.as_deref().unwrap_or(inherited);
    let redecode = charset.len() > 1;
    let tags: Vec<Tag> = obj.tags().collect();
    for tag in tags {
        // Only sequences and (with code extensions) text are touched; the rest stay in place.
        let touched = obj
            .get(tag)
            .is_some_and(|e| e.items().is_some() || (redecode && is_charset_text(e.vr())));
        if !touched {
            continue;
        }
        let Some(mut element) = obj.take(tag) else {
            continue;
        };
        let vr = element.vr();
        // `items_mut` marks any element's length undefined, so only call it on sequences:
        // pixel data with an undefined length would be written as fragments.
        if element.items().is_some() {
            if let Some(items) = element.items_mut() {
                for item in items.iter_mut() {
                    redecode_code_extensions(item, charset);
                }
            }
        } else if redecode
            && is_charset_text(vr)
            && let Some(decoded) = redecode_values(element.value(), charset, vr == VR::PN)
        {
            element = DataElement::new(tag, vr, PrimitiveValue::Strs(decoded));
        }
        obj.put(element);
    }
}

fn redecode_values(
    value: &Value<InMemDicomObject>,
    charset: &[String],
    person_name: bool,
) -> Option<C<String>> {
    let strings = match value.primitive()? {
        PrimitiveValue::Strs(s) => s.join("\\"),
        PrimitiveValue::Str(s) => s.clone(),
        _ => return None,
    };
    // The codec dicom-rs decoded with: the first declared value, else the default repertoire
    // (which it reads as ISO 8859-1, so the bytes come back exactly).
    let parser_codec = charset
        .first()
        .and_then(|name| SpecificCharacterSet::from_code(name))
        .unwrap_or_default();
    let bytes = parser_codec.encode(&strings).ok()?;
    Some(decode_iso2022(&bytes, charset, person_name))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum G0 {
    Ascii,
    JisRoman,
    Jis0208,
    Jis0212,
}

#[derive(Clone, Copy)]
enum G1 {
    None,
    Katakana,
    DoubleByte(EncodingRef),
    SingleByte(EncodingRef),
}

fn initial_state(first: &str) -> (G0, G1) {
    let number = first.rsplit(' ').next().unwrap_or("");
    match number {
        "13" => (G0::JisRoman, G1::Katakana),
        "149" => (G0::Ascii, G1::DoubleByte(WINDOWS_949)),
        "58" => (G0::Ascii, G1::DoubleByte(GBK)),
        _ => (
            G0::Ascii,
            single_byte_g1(number).map_or(G1::None, G1::SingleByte),
        ),
    }
}

fn single_byte_g1(ir_number: &str) -> Option<EncodingRef> {
    Some(match ir_number {
        "100" => ISO_8859_1,
        "101" => ISO_8859_2,
        "109" => ISO_8859_3,
        "110" => ISO_8859_4,
        "144" => ISO_8859_5,
        "127" => ISO_8859_6,
        "126" => ISO_8859_7,
        "138" => ISO_8859_8,
        "148" => WINDOWS_1254,
        "166" => WINDOWS_874,
        _ => return None,
    })
}

/// Decode bytes written with ISO 2022 code extensions into values (split at `\`).
///
/// Handles the escape sequences of PS3.3 C.12.1.1.2: ISO-IR 6, 13, 14, 87, 159, 149, 58 and the
/// single-byte G1 sets. At each delimiter (CR, LF, FF, TAB, `\`, and for person names `^` and
/// `=`) the designations return to those of the first value, as PS3.5 6.1.2.5.3 requires.
pub fn decode_iso2022(bytes: &[u8], charset: &[String], person_name: bool) -> C<String> {
    let initial = initial_state(charset.first().map_or("", String::as_str));
    let (mut g0, mut g1) = initial;
    let mut values: C<String> = C::new();
    let mut out = String::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == 0x1B {
            if let Some((len, change)) = escape(&bytes[i + 1..]) {
                match change {
                    Designation::G0(set) => g0 = set,
                    Designation::G1(set) => g1 = set,
                }
                i += 1 + len;
                continue;
            }
            out.push('\u{FFFD}');
            i += 1;
            continue;
        }
        if b < 0x80 {
            let double = matches!(g0, G0::Jis0208 | G0::Jis0212);
            if double
                && (0x21..=0x7E).contains(&b)
                && let Some(&second) = bytes.get(i + 1)
            {
                let euc: &[u8] = if g0 == G0::Jis0208 {
                    &[b | 0x80, second | 0x80]
                } else {
                    &[0x8F, b | 0x80, second | 0x80]
                };
                push_decoded(&mut out, EUC_JP, euc);
                i += 2;
                continue;
            }
            let delimiter = matches!(b, b'\r' | b'\n' | 0x0C | b'\t' | b'\\')
                || (person_name && matches!(b, b'^' | b'='));
            if delimiter {
                (g0, g1) = initial;
            }
            if b == b'\\' {
                values.push(std::mem::take(&mut out));
            } else {
                out.push(char::from(b));
            }
            i += 1;
            continue;
        }
        match g1 {
            G1::Katakana if (0xA1..=0xDF).contains(&b) => {
                out.push(char::from_u32(0xFF61 + u32::from(b - 0xA1)).unwrap_or('\u{FFFD}'));
                i += 1;
            }
            G1::DoubleByte(codec) => {
                let end = (i + 2).min(bytes.len());
                push_decoded(&mut out, codec, &bytes[i..end]);
                i = end;
            }
            G1::SingleByte(codec) => {
                push_decoded(&mut out, codec, &bytes[i..=i]);
                i += 1;
            }
            _ => {
                out.push('\u{FFFD}');
                i += 1;
            }
        }
    }
    values.push(out);
    values
}

enum Designation {
    G0(G0),
    G1(G1),
}

/// The escape sequence after ESC: its length and what it designates.
fn escape(rest: &[u8]) -> Option<(usize, Designation)> {
    let seq = |s: &[u8]| rest.starts_with(s);
    let found = if seq(b"(B") {
        (2, Designation::G0(G0::Ascii))
    } else if seq(b"(J") {
        (2, Designation::G0(G0::JisRoman))
    } else if seq(b")I") {
        (2, Designation::G1(G1::Katakana))
    } else if seq(b"$B") || seq(b"$@") {
        (2, Designation::G0(G0::Jis0208))
    } else if seq(b"$(D") {
        (3, Designation::G0(G0::Jis0212))
    } else if seq(b"$)C") {
        (3, Designation::G1(G1::DoubleByte(WINDOWS_949)))
    } else if seq(b"$)A") {
        (3, Designation::G1(G1::DoubleByte(GBK)))
    } else if rest.first() == Some(&b'-') {
        let number = match rest.get(1)? {
            b'A' => "100",
            b'B' => "101",
            b'C' => "109",
            b'D' => "110",
            b'F' => "126",
            b'G' => "127",
            b'H' => "138",
            b'L' => "144",
            b'M' => "148",
            b'T' => "166",
            _ => return None,
        };
        (2, Designation::G1(G1::SingleByte(single_byte_g1(number)?)))
    } else {
        return None;
    };
    Some(found)
}

fn push_decoded(out: &mut String, codec: EncodingRef, bytes: &[u8]) {
    match codec.decode(bytes, DecoderTrap::Replace) {
        Ok(text) => out.push_str(&text),
        Err(_) => out.push('\u{FFFD}'),
    }
}

/// Whether any charset-sensitive text value in the data set (recursively) is non-ASCII.
pub fn has_non_ascii_text(obj: &InMemDicomObject) -> bool {
    obj.iter().any(|element| match element.items() {
        Some(items) => items.iter().any(has_non_ascii_text),
        None => {
            is_charset_text(element.vr())
                && element
                    .value()
                    .to_multi_str()
                    .is_ok_and(|values| values.iter().any(|v| !v.is_ascii()))
        }
    })
}

/// Declare UTF-8 (`ISO_IR 192`) at the top and in every item that declares its own character set.
pub fn declare_utf8(obj: &mut InMemDicomObject, top: bool) {
    if top || obj.get(SPECIFIC_CHARACTER_SET).is_some() {
        obj.put(DataElement::new(
            SPECIFIC_CHARACTER_SET,
            VR::CS,
            "ISO_IR 192",
        ));
    }
    let tags: Vec<Tag> = obj
        .iter()
        .filter(|e| e.vr() == VR::SQ)
        .map(|e| e.tag())
        .collect();
    for tag in tags {
        obj.update_value(tag, |value| {
            if let Some(items) = value.items_mut() {
                for item in items.iter_mut() {
                    declare_utf8(item, false);
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scs(values: &[&str]) -> Vec<String> {
        values.iter().map(|v| v.to_string()).collect()
    }

    #[test]
    fn decodes_ps3_5_h31_example() {
        // PS3.5 Annex H.3.1: Yamada^Tarou=山田^太郎=やまだ^たろう with \ISO 2022 IR 87.
        let bytes =
            b"Yamada^Tarou=\x1b$B;3ED\x1b(B^\x1b$BB@O:\x1b(B=\x1b$B$d$^$@\x1b(B^\x1b$B$?$m$&\x1b(B";
        let values = decode_iso2022(bytes, &scs(&["", "ISO 2022 IR 87"]), true);
        assert_eq!(values.as_slice(), ["Yamada^Tarou=山田^太郎=やまだ^たろう"]);
    }

    #[test]
    fn decodes_ps3_5_h32_example_with_half_width_katakana() {
        // PS3.5 Annex H.3.2: ISO 2022 IR 13 \ ISO 2022 IR 87, first group in half-width katakana.
        let bytes = b"\xd4\xcf\xc0\xde^\xc0\xdb\xb3=\x1b$B;3ED\x1b(J^\x1b$BB@O:\x1b(J=\x1b$B$d$^$@\x1b(J^\x1b$B$?$m$&\x1b(J";
        let values = decode_iso2022(bytes, &scs(&["ISO 2022 IR 13", "ISO 2022 IR 87"]), true);
        assert_eq!(values.as_slice(), ["ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎=やまだ^たろう"]);
    }

    #[test]
    fn decodes_korean_g1_and_splits_values() {
        // Hong^Gildong=洪^吉洞=홍^길동 from PS3.5 I.2, then a second value.
        let bytes = b"Hong^Gildong=\x1b$)C\xfb\xf3^\x1b$)C\xd1\xce\xd4\xd7=\x1b$)C\xc8\xab^\x1b$)C\xb1\xe6\xb5\xbf\\Kim";
        let values = decode_iso2022(bytes, &scs(&["", "ISO 2022 IR 149"]), true);
        assert_eq!(values.as_slice(), ["Hong^Gildong=洪^吉洞=홍^길동", "Kim"]);
    }

    #[test]
    fn unknown_escape_is_marked_not_dropped_silently() {
        let values = decode_iso2022(b"A\x1b%GB", &scs(&["", "ISO 2022 IR 87"]), false);
        assert_eq!(values.as_slice(), ["A\u{FFFD}%GB"]);
    }
}
