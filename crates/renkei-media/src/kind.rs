//! Content type sniffing from a file's first bytes; the name and declared type are never trusted.

/// How many leading bytes `sniff` looks at; pass at least this many when the file is longer.
pub const SNIFF_LEN: usize = 1024;

/// Markup and script that a browser could run if it were ever served inline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DangerousKind {
    Html,
    Svg,
    Xml,
    Script,
}

impl DangerousKind {
    /// A short lower-case name for messages.
    pub fn as_str(self) -> &'static str {
        match self {
            DangerousKind::Html => "html",
            DangerousKind::Svg => "svg",
            DangerousKind::Xml => "xml",
            DangerousKind::Script => "script",
        }
    }
}

/// What a file's bytes are, whatever it is called.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MediaKind {
    Jpeg,
    Png,
    WebP,
    Gif,
    /// HEIC/HEIF still images (ISO-BMFF with a HEIF brand); not decoded.
    Heic,
    /// AVIF still images (ISO-BMFF with an AVIF brand); not decoded.
    Avif,
    /// ISO-BMFF video (MP4, M4V, 3GP).
    Mp4,
    /// Apple QuickTime video (`ftyp qt`, or a legacy file starting with `moov`/`mdat`/`wide`).
    QuickTime,
    Pdf,
    /// DICOM Part 10 file (128-byte preamble then `DICM`).
    Dicom,
    /// Text without NUL or unexpected control bytes (UTF-8, Shift_JIS, UTF-16 with BOM, ...).
    Text,
    /// Markup or script that must never be served inline.
    Dangerous(DangerousKind),
    /// Anything else (archives, office documents, unknown binaries).
    Other,
}

impl MediaKind {
    /// A short lower-case name for messages and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            MediaKind::Jpeg => "jpeg",
            MediaKind::Png => "png",
            MediaKind::WebP => "webp",
            MediaKind::Gif => "gif",
            MediaKind::Heic => "heic",
            MediaKind::Avif => "avif",
            MediaKind::Mp4 => "mp4",
            MediaKind::QuickTime => "quicktime",
            MediaKind::Pdf => "pdf",
            MediaKind::Dicom => "dicom",
            MediaKind::Text => "text",
            MediaKind::Dangerous(kind) => kind.as_str(),
            MediaKind::Other => "other",
        }
    }

    /// The MIME type to store and serve the content under.
    pub fn mime(self) -> &'static str {
        match self {
            MediaKind::Jpeg => "image/jpeg",
            MediaKind::Png => "image/png",
            MediaKind::WebP => "image/webp",
            MediaKind::Gif => "image/gif",
            MediaKind::Heic => "image/heic",
            MediaKind::Avif => "image/avif",
            MediaKind::Mp4 => "video/mp4",
            MediaKind::QuickTime => "video/quicktime",
            MediaKind::Pdf => "application/pdf",
            MediaKind::Dicom => "application/dicom",
            MediaKind::Text => "text/plain",
            MediaKind::Dangerous(_) | MediaKind::Other => "application/octet-stream",
        }
    }
}

/// Recognises a file's kind from its first bytes (pass at least [`SNIFF_LEN`] when available).
pub fn sniff(first_bytes: &[u8]) -> MediaKind {
    let b = first_bytes;
    if b.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return MediaKind::Jpeg;
    }
    if b.starts_with(b"\x89PNG\r\n\x1a\n") {
        return MediaKind::Png;
    }
    if b.len() >= 12 && &b[0..4] == b"RIFF" && &b[8..12] == b"WEBP" {
        return MediaKind::WebP;
    }
    if b.starts_with(b"GIF87a") || b.starts_with(b"GIF89a") {
        return MediaKind::Gif;
    }
    if let Some(kind) = sniff_iso_bmff(b) {
        return kind;
    }
    if b.starts_with(b"%PDF-") {
        return MediaKind::Pdf;
    }
    if b.len() >= 132 && &b[128..132] == b"DICM" {
        return MediaKind::Dicom;
    }
    sniff_text(b)
}

/// ISO base media files: `ftyp` with a brand, or a legacy QuickTime file without `ftyp`.
fn sniff_iso_bmff(b: &[u8]) -> Option<MediaKind> {
    if b.len() < 12 {
        return None;
    }
    let box_type = &b[4..8];
    if box_type != b"ftyp" {
        let legacy_quicktime = [b"moov", b"mdat", b"wide", b"pnot"];
        let size = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
        let plausible_size = size == 0 || size == 1 || size >= 8;
        return (plausible_size && legacy_quicktime.iter().any(|t| box_type == *t))
            .then_some(MediaKind::QuickTime);
    }
    let ftyp_size = u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize;
    let ftyp_end = ftyp_size.min(b.len());
    // Major brand at 8..12, minor version at 12..16, compatible brands after.
    let mut brands = vec![&b[8..12]];
    let mut at = 16;
    while at + 4 <= ftyp_end {
        brands.push(&b[at..at + 4]);
        at += 4;
    }
    let major = brands[0];
    let classify = |brand: &[u8]| -> Option<MediaKind> {
        match brand {
            b"heic" | b"heix" | b"heim" | b"heis" | b"hevc" | b"hevx" | b"hevm" | b"hevs"
            | b"mif1" | b"msf1" | b"mif2" => Some(MediaKind::Heic),
            b"avif" | b"avis" => Some(MediaKind::Avif),
            b"qt  " => Some(MediaKind::QuickTime),
            b"isom" | b"iso2" | b"iso3" | b"iso4" | b"iso5" | b"iso6" | b"mp41" | b"mp42"
            | b"avc1" | b"M4V " | b"M4VH" | b"M4VP" | b"3gp4" | b"3gp5" | b"3gp6" | b"3g2a"
            | b"MSNV" | b"dash" | b"mmp4" | b"f4v " => Some(MediaKind::Mp4),
            _ => None,
        }
    };
    // The major brand decides; an AVIF/HEIF compatible brand wins over a generic one
    // (e.g. major `mif1` with compatible `avif` is an AVIF image).
    let image_brand = brands.iter().find_map(|brand| match classify(brand) {
        Some(MediaKind::Avif) => Some(MediaKind::Avif),
        _ => None,
    });
    match classify(major) {
        Some(MediaKind::Heic) => Some(image_brand.unwrap_or(MediaKind::Heic)),
        Some(kind) => Some(kind),
        None => brands
            .iter()
            .skip(1)
            .find_map(|brand| classify(brand))
            .or(Some(MediaKind::Mp4)),
    }
}

/// Text, or markup/script disguised as text.
fn sniff_text(b: &[u8]) -> MediaKind {
    let utf16 = b.starts_with(&[0xFF, 0xFE]) || b.starts_with(&[0xFE, 0xFF]);
    let without_bom = b.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(b);
    let lowered: Vec<u8> = if utf16 {
        // Keep every ASCII code unit so that UTF-16 markup is recognised too.
        b[2..]
            .chunks_exact(2)
            .filter_map(|pair| match pair {
                [c, 0] | [0, c] => Some(c.to_ascii_lowercase()),
                _ => None,
            })
            .collect()
    } else {
        without_bom.iter().map(u8::to_ascii_lowercase).collect()
    };
    if let Some(dangerous) = sniff_markup(&lowered) {
        return MediaKind::Dangerous(dangerous);
    }
    if b.is_empty() {
        return MediaKind::Other;
    }
    if utf16 {
        return MediaKind::Text;
    }
    let is_text_byte =
        |c: &u8| !matches!(*c, 0x00..=0x08 | 0x0B | 0x0E..=0x1A | 0x1C..=0x1F | 0x7F);
    if without_bom.iter().all(is_text_byte) {
        MediaKind::Text
    } else {
        MediaKind::Other
    }
}

/// HTML per the WHATWG sniffing table, plus SVG, XML and markup anywhere in the prefix.
fn sniff_markup(lowered: &[u8]) -> Option<DangerousKind> {
    let start = lowered
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(lowered.len());
    let head = &lowered[start..];
    let contains = |needle: &[u8]| lowered.windows(needle.len()).any(|w| w == needle);
    if contains(b"<svg") {
        return Some(DangerousKind::Svg);
    }
    const HTML_TAGS: [&[u8]; 16] = [
        b"<!doctype html",
        b"<html",
        b"<head",
        b"<script",
        b"<iframe",
        b"<h1",
        b"<div",
        b"<font",
        b"<table",
        b"<a",
        b"<style",
        b"<title",
        b"<b",
        b"<body",
        b"<br",
        b"<p",
    ];
    let tag_ends = |rest: &[u8]| rest.first().is_none_or(|c| *c == b' ' || *c == b'>');
    let starts_with_tag = HTML_TAGS
        .iter()
        .any(|tag| head.starts_with(tag) && tag_ends(&head[tag.len()..]))
        || head.starts_with(b"<!--");
    let embeds_active_markup = [
        b"<script".as_slice(),
        b"<html",
        b"<iframe",
        b"<object",
        b"<embed",
        b"javascript:",
    ]
    .iter()
    .any(|needle| contains(needle));
    if starts_with_tag || embeds_active_markup {
        return Some(DangerousKind::Html);
    }
    if head.starts_with(b"<?xml") || head.starts_with(b"<!doctype") {
        return Some(DangerousKind::Xml);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ftyp(major: &[u8; 4], compatible: &[&[u8; 4]]) -> Vec<u8> {
        let size = 16 + 4 * compatible.len();
        let mut out = (size as u32).to_be_bytes().to_vec();
        out.extend_from_slice(b"ftyp");
        out.extend_from_slice(major);
        out.extend_from_slice(&[0, 0, 0, 0]);
        for brand in compatible {
            out.extend_from_slice(*brand);
        }
        out.extend_from_slice(&[0, 0, 0, 8, b'f', b'r', b'e', b'e']);
        out
    }

    #[test]
    fn recognises_image_signatures() {
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE1, 0, 0]), MediaKind::Jpeg);
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), MediaKind::Png);
        assert_eq!(sniff(b"RIFF\x10\0\0\0WEBPVP8L"), MediaKind::WebP);
        assert_eq!(sniff(b"RIFF\x10\0\0\0WAVEfmt "), MediaKind::Other);
        assert_eq!(sniff(b"GIF89a\x01\0\x01\0"), MediaKind::Gif);
        assert_eq!(sniff(b"GIF87a\x01\0\x01\0"), MediaKind::Gif);
    }

    #[test]
    fn recognises_iso_bmff_brands() {
        assert_eq!(sniff(&ftyp(b"heic", &[b"mif1", b"heic"])), MediaKind::Heic);
        assert_eq!(sniff(&ftyp(b"mif1", &[b"heic", b"miaf"])), MediaKind::Heic);
        assert_eq!(sniff(&ftyp(b"msf1", &[b"hevc"])), MediaKind::Heic);
        assert_eq!(sniff(&ftyp(b"avif", &[b"mif1", b"miaf"])), MediaKind::Avif);
        assert_eq!(sniff(&ftyp(b"mif1", &[b"avif", b"miaf"])), MediaKind::Avif);
        assert_eq!(sniff(&ftyp(b"isom", &[b"iso2", b"mp41"])), MediaKind::Mp4);
        assert_eq!(sniff(&ftyp(b"mp42", &[b"isom"])), MediaKind::Mp4);
        assert_eq!(sniff(&ftyp(b"qt  ", &[b"qt  "])), MediaKind::QuickTime);
        assert_eq!(sniff(&ftyp(b"3gp5", &[b"isom"])), MediaKind::Mp4);
        assert_eq!(sniff(b"\0\0\0\x08wide\0\0\0\x10mdat"), MediaKind::QuickTime);
    }

    #[test]
    fn recognises_pdf_and_dicom() {
        assert_eq!(sniff(b"%PDF-1.7\n%\xe2\xe3"), MediaKind::Pdf);
        let mut dicom = vec![0u8; 128];
        dicom.extend_from_slice(b"DICM\x02\0\x00\0UL");
        assert_eq!(sniff(&dicom), MediaKind::Dicom);
        // A preamble of zeros alone is not DICOM.
        assert_eq!(sniff(&[0u8; 200]), MediaKind::Other);
    }

    #[test]
    fn recognises_text_in_japanese_encodings() {
        assert_eq!(sniff("患者メモ,体温\n36.5\n".as_bytes()), MediaKind::Text);
        // "体温" in Shift_JIS.
        assert_eq!(sniff(b"\x91\xcc\x89\xb7,36.5\r\n"), MediaKind::Text);
        // ISO-2022-JP uses ESC.
        assert_eq!(sniff(b"\x1b$B2<\x1b(B\n"), MediaKind::Text);
        assert_eq!(sniff(b"\xff\xfeh\0i\0"), MediaKind::Text);
        assert_eq!(sniff(b"MZ\x90\0\x03\0\0\0"), MediaKind::Other);
    }

    #[test]
    fn recognises_markup_however_it_starts() {
        let html = MediaKind::Dangerous(DangerousKind::Html);
        assert_eq!(sniff(b"<!DOCTYPE html><html>"), html);
        assert_eq!(sniff(b"\xef\xbb\xbf  \n<HTML>"), html);
        assert_eq!(sniff(b"<p>hello"), html);
        assert_eq!(sniff(b"<!-- x -->"), html);
        assert_eq!(sniff(b"notes first\n<script>alert(1)</script>"), html);
        assert_eq!(sniff(b"\xff\xfe<\0h\0t\0m\0l\0>\0"), html);
        assert_eq!(
            sniff(b"<?xml version=\"1.0\"?><svg xmlns=\"http://www.w3.org/2000/svg\">"),
            MediaKind::Dangerous(DangerousKind::Svg)
        );
        assert_eq!(
            sniff(b"<?xml version=\"1.0\"?><note/>"),
            MediaKind::Dangerous(DangerousKind::Xml)
        );
        // A less-than sign in ordinary text is not markup.
        assert_eq!(sniff(b"SpO2 <90 at night\n"), MediaKind::Text);
    }
}
