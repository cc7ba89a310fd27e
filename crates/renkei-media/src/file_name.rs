//! Safe display/download file names: no directories, control or bidi characters, bounded length.

use unicode_normalization::UnicodeNormalization;

use crate::error::MediaError;

/// The longest name returned, in UTF-8 bytes (the usual file system limit).
pub const MAX_FILE_NAME_BYTES: usize = 255;

/// Longest extension kept intact when a name has to be shortened.
const MAX_KEPT_EXTENSION_BYTES: usize = 16;

/// Windows device names that cannot be file names, with or without an extension.
const RESERVED_DEVICE_NAMES: [&str; 22] = [
    "con", "prn", "aux", "nul", "com1", "com2", "com3", "com4", "com5", "com6", "com7", "com8",
    "com9", "lpt1", "lpt2", "lpt3", "lpt4", "lpt5", "lpt6", "lpt7", "lpt8", "lpt9",
];

/// Cleans an uploaded file name for storage and `Content-Disposition`.
///
/// Keeps only the last path component (`/` and `\` both separate), normalises to NFC, removes
/// control, bidirectional-override and zero-width characters, replaces characters Windows
/// forbids (`<>:"|?*`) with `_`, trims spaces and dots at both ends (no hidden or `..` names),
/// prefixes Windows device names (`CON`, `LPT1.txt`) with `_`, and shortens names longer than
/// [`MAX_FILE_NAME_BYTES`] at a character boundary, keeping the extension.
/// Refuses (`invalid_file_name`) a name with nothing left.
pub fn safe_file_name(name: &str) -> Result<String, MediaError> {
    let last_component = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last_component
        .nfc()
        .filter(|c| !is_invisible_or_control(*c))
        .map(|c| if is_forbidden_on_windows(c) { '_' } else { c })
        .collect();
    let trimmed = cleaned.trim_matches(|c: char| c == '.' || c.is_whitespace());
    if trimmed.is_empty() {
        return Err(MediaError::InvalidFileName {
            reason: "nothing is left of the name once cleaned",
        });
    }
    let mut safe = trimmed.to_owned();
    if is_reserved_device_name(&safe) {
        safe.insert(0, '_');
    }
    Ok(shorten(&safe))
}

fn is_invisible_or_control(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            // Bidirectional marks, embeddings, overrides and isolates.
            '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
            // Zero-width characters, word joiner, byte order mark.
            | '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}'
            // Line and paragraph separators.
            | '\u{2028}' | '\u{2029}'
        )
}

fn is_forbidden_on_windows(c: char) -> bool {
    matches!(c, '<' | '>' | ':' | '"' | '|' | '?' | '*')
}

fn is_reserved_device_name(name: &str) -> bool {
    let stem = name.split('.').next().unwrap_or_default().trim_end();
    RESERVED_DEVICE_NAMES
        .iter()
        .any(|reserved| stem.eq_ignore_ascii_case(reserved))
}

/// Cuts the stem so that `stem.ext` fits in [`MAX_FILE_NAME_BYTES`], never inside a character.
fn shorten(name: &str) -> String {
    if name.len() <= MAX_FILE_NAME_BYTES {
        return name.to_owned();
    }
    let (stem, extension) = match name.rsplit_once('.') {
        Some((stem, extension))
            if !stem.is_empty() && extension.len() < MAX_KEPT_EXTENSION_BYTES =>
        {
            (stem, Some(extension))
        }
        _ => (name, None),
    };
    let room = MAX_FILE_NAME_BYTES - extension.map_or(0, |e| e.len() + 1);
    let stem = prefix_within(stem, room).trim_end_matches(|c: char| c == '.' || c.is_whitespace());
    match extension {
        Some(extension) => format!("{stem}.{extension}"),
        None => stem.to_owned(),
    }
}

/// The longest prefix of `text` of at most `max_bytes` bytes that ends on a character boundary.
fn prefix_within(text: &str, max_bytes: usize) -> &str {
    let mut end = max_bytes.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn safe(name: &str) -> String {
        safe_file_name(name).unwrap_or_else(|error| format!("ERR {}", error.code()))
    }

    #[test]
    fn strips_directories_of_both_kinds() {
        assert_eq!(safe("../../etc/passwd"), "passwd");
        assert_eq!(safe("..\\..\\Windows\\system.ini"), "system.ini");
        assert_eq!(safe("C:\\Users\\医師\\写真.jpg"), "写真.jpg");
        assert_eq!(safe("/abs/path/scan.pdf"), "scan.pdf");
    }

    #[test]
    fn refuses_names_with_nothing_left() {
        assert_eq!(safe(""), "ERR invalid_file_name");
        assert_eq!(safe(".."), "ERR invalid_file_name");
        assert_eq!(safe("photos/.."), "ERR invalid_file_name");
        assert_eq!(safe("dir/"), "ERR invalid_file_name");
        assert_eq!(safe(" \u{0} \u{202E} . "), "ERR invalid_file_name");
    }

    #[test]
    fn removes_control_and_bidi_characters() {
        assert_eq!(safe("a\u{0}b.jpg"), "ab.jpg");
        assert_eq!(safe("line\r\nbreak.txt"), "linebreak.txt");
        // "invoice<RLO>gpj.exe" displays as "invoiceexe.jpg"; once cleaned the real extension shows.
        assert_eq!(safe("invoice\u{202E}gpj.exe"), "invoicegpj.exe");
        assert_eq!(safe("zero\u{200B}width\u{FEFF}.png"), "zerowidth.png");
    }

    #[test]
    fn removes_hidden_file_dots_and_windows_forbidden_characters() {
        assert_eq!(safe(".bashrc"), "bashrc");
        assert_eq!(safe("report.pdf. . "), "report.pdf");
        assert_eq!(safe("a<b>c:d\"e|f?g*.txt"), "a_b_c_d_e_f_g_.txt");
    }

    #[test]
    fn prefixes_windows_device_names() {
        assert_eq!(safe("CON"), "_CON");
        assert_eq!(safe("con.txt"), "_con.txt");
        assert_eq!(safe("Lpt1.jpg"), "_Lpt1.jpg");
        assert_eq!(safe("console.log"), "console.log");
    }

    #[test]
    fn normalises_to_nfc() {
        // "ガ" as カ + combining dakuten (as macOS file systems store it).
        assert_eq!(safe("\u{30AB}\u{3099}.jpg"), "\u{30AC}.jpg");
    }

    #[test]
    fn shortens_long_japanese_names_on_a_character_boundary_keeping_the_extension() {
        let long = format!("{}.jpeg", "診療記録".repeat(40)); // 480 bytes of stem
        let short = safe(&long);
        assert!(short.len() <= MAX_FILE_NAME_BYTES, "{} bytes", short.len());
        assert!(short.ends_with(".jpeg"));
        assert!(short.starts_with("診療記録診療記録"));
        // 250 bytes of room: 83 whole three-byte characters.
        assert_eq!(short.len(), 83 * 3 + ".jpeg".len());
    }

    #[test]
    fn shortens_a_long_name_whose_extension_is_too_long_to_keep() {
        let long = format!("a.{}", "x".repeat(300));
        assert_eq!(safe(&long).len(), MAX_FILE_NAME_BYTES);
    }
}
