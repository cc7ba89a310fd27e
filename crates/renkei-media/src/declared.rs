//! Checks a file's declared MIME type and name against its sniffed kind.

use crate::error::MediaError;
use crate::kind::{DangerousKind, MediaKind};

/// Raster formats that are decoded and re-encoded: a PNG called `.jpg` is harmless because the
/// stored copy gets the type of its re-encoded bytes, so claims inside this group are tolerated.
const RASTER: &[MediaKind] = &[
    MediaKind::Jpeg,
    MediaKind::Png,
    MediaKind::WebP,
    MediaKind::Gif,
];
const HEIF: &[MediaKind] = &[MediaKind::Heic];
const AVIF: &[MediaKind] = &[MediaKind::Avif];
const VIDEO: &[MediaKind] = &[MediaKind::Mp4, MediaKind::QuickTime];
const PDF: &[MediaKind] = &[MediaKind::Pdf];
/// DICOM files written without the Part 10 preamble are legal and sniff as `Other`.
const DICOM: &[MediaKind] = &[MediaKind::Dicom, MediaKind::Other];
const TEXT: &[MediaKind] = &[MediaKind::Text];

/// Refuses a file whose bytes contradict its declared MIME type or its name's extension,
/// and any markup or script (HTML, SVG, XML, JavaScript) however it is declared or named.
///
/// `declared_mime` may be empty or `application/octet-stream` (no claim). Extensions and types
/// not listed here (office documents, archives, ...) make no claim and are not checked.
pub fn check_declared(
    kind: MediaKind,
    declared_mime: &str,
    file_name: &str,
) -> Result<(), MediaError> {
    if let MediaKind::Dangerous(dangerous) = kind {
        return Err(MediaError::DangerousType {
            what: dangerous.as_str().to_owned(),
        });
    }
    let mime = mime_essence(declared_mime);
    let extension = extension_of(file_name);
    if let Some(dangerous) = dangerous_mime(&mime).or_else(|| dangerous_extension(&extension)) {
        return Err(MediaError::DangerousType {
            what: dangerous.as_str().to_owned(),
        });
    }
    if let Some(accepted) = kinds_for_mime(&mime)
        && !accepted.contains(&kind)
    {
        return Err(MediaError::TypeMismatch {
            declared: mime,
            actual: kind.as_str(),
        });
    }
    if let Some(accepted) = kinds_for_extension(&extension)
        && !accepted.contains(&kind)
    {
        return Err(MediaError::TypeMismatch {
            declared: format!(".{extension}"),
            actual: kind.as_str(),
        });
    }
    Ok(())
}

/// `Image/JPEG; charset=x` → `image/jpeg`.
fn mime_essence(declared: &str) -> String {
    declared
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// The lower-cased text after the last dot of the last path component, or empty.
fn extension_of(file_name: &str) -> String {
    let base = file_name.rsplit(['/', '\\']).next().unwrap_or_default();
    // Windows drops trailing dots and spaces: `page.html.` opens as `page.html`.
    let base = base.trim_end_matches(|c: char| c == '.' || c.is_whitespace());
    match base.rsplit_once('.') {
        Some((_, extension)) => extension.to_lowercase(),
        None => String::new(),
    }
}

fn dangerous_mime(mime: &str) -> Option<DangerousKind> {
    match mime {
        "text/html"
        | "application/xhtml+xml"
        | "multipart/related"
        | "application/x-mimearchive" => Some(DangerousKind::Html),
        "image/svg+xml" => Some(DangerousKind::Svg),
        "text/javascript"
        | "application/javascript"
        | "application/x-javascript"
        | "text/ecmascript"
        | "application/ecmascript"
        | "text/jscript"
        | "application/wasm" => Some(DangerousKind::Script),
        "text/xml" | "application/xml" | "text/xsl" | "application/xslt+xml" => {
            Some(DangerousKind::Xml)
        }
        _ if mime.ends_with("+xml") => Some(DangerousKind::Xml),
        _ => None,
    }
}

fn dangerous_extension(extension: &str) -> Option<DangerousKind> {
    match extension {
        "html" | "htm" | "xhtml" | "xht" | "shtml" | "mht" | "mhtml" | "hta" => {
            Some(DangerousKind::Html)
        }
        "svg" | "svgz" => Some(DangerousKind::Svg),
        "js" | "mjs" | "cjs" | "jsx" | "wasm" => Some(DangerousKind::Script),
        "xml" | "xsl" | "xslt" => Some(DangerousKind::Xml),
        _ => None,
    }
}

fn kinds_for_mime(mime: &str) -> Option<&'static [MediaKind]> {
    Some(match mime {
        "image/jpeg" | "image/jpg" | "image/pjpeg" | "image/png" | "image/apng" | "image/webp"
        | "image/gif" => RASTER,
        "image/heic" | "image/heif" | "image/heic-sequence" | "image/heif-sequence" => HEIF,
        "image/avif" => AVIF,
        "video/mp4" | "video/quicktime" | "video/x-m4v" | "video/3gpp" | "video/3gpp2" => VIDEO,
        "application/pdf" | "application/x-pdf" => PDF,
        "application/dicom" => DICOM,
        "text/plain" | "text/csv" | "text/tab-separated-values" | "text/markdown" => TEXT,
        _ => return None,
    })
}

fn kinds_for_extension(extension: &str) -> Option<&'static [MediaKind]> {
    Some(match extension {
        "jpg" | "jpeg" | "jpe" | "jfif" | "png" | "apng" | "webp" | "gif" => RASTER,
        "heic" | "heif" | "hif" | "heics" | "heifs" => HEIF,
        "avif" => AVIF,
        "mp4" | "m4v" | "mov" | "qt" | "3gp" | "3g2" => VIDEO,
        "pdf" => PDF,
        "dcm" | "dicom" => DICOM,
        "txt" | "csv" | "tsv" | "log" | "md" => TEXT,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(result: Result<(), MediaError>) -> &'static str {
        result.err().map(|error| error.code()).unwrap_or("ok")
    }

    #[test]
    fn accepts_honest_declarations() {
        assert_eq!(
            code(check_declared(
                MediaKind::Jpeg,
                "image/jpeg",
                "IMG_0001.JPG"
            )),
            "ok"
        );
        assert_eq!(
            code(check_declared(
                MediaKind::Pdf,
                "application/pdf",
                "紹介状.pdf"
            )),
            "ok"
        );
        assert_eq!(
            code(check_declared(
                MediaKind::QuickTime,
                "video/quicktime",
                "a.MOV"
            )),
            "ok"
        );
        assert_eq!(
            code(check_declared(MediaKind::Other, "", "report.docx")),
            "ok"
        );
        assert_eq!(
            code(check_declared(
                MediaKind::Text,
                "text/csv; charset=Shift_JIS",
                "v.csv"
            )),
            "ok"
        );
        assert_eq!(
            code(check_declared(
                MediaKind::Other,
                "application/dicom",
                "raw.dcm"
            )),
            "ok"
        );
    }

    #[test]
    fn tolerates_a_raster_photo_under_another_raster_name() {
        assert_eq!(
            code(check_declared(
                MediaKind::Png,
                "image/jpeg",
                "screenshot.jpg"
            )),
            "ok"
        );
    }

    #[test]
    fn refuses_content_that_contradicts_the_claim() {
        assert_eq!(
            code(check_declared(MediaKind::Pdf, "image/jpeg", "x.jpg")),
            "type_mismatch"
        );
        assert_eq!(
            code(check_declared(MediaKind::Pdf, "", "x.jpg")),
            "type_mismatch"
        );
        assert_eq!(
            code(check_declared(MediaKind::Pdf, "image/png", "x")),
            "type_mismatch"
        );
        assert_eq!(
            code(check_declared(MediaKind::Other, "video/mp4", "clip.mp4")),
            "type_mismatch"
        );
        assert_eq!(
            code(check_declared(MediaKind::Heic, "image/jpeg", "a.jpg")),
            "type_mismatch"
        );
        assert_eq!(
            code(check_declared(MediaKind::Jpeg, "text/plain", "notes.txt")),
            "type_mismatch"
        );
        assert_eq!(
            code(check_declared(MediaKind::Mp4, "application/pdf", "a.pdf")),
            "type_mismatch"
        );
    }

    #[test]
    fn refuses_markup_and_script_whatever_they_are_called() {
        let html = MediaKind::Dangerous(DangerousKind::Html);
        assert_eq!(
            code(check_declared(html, "image/png", "x.png")),
            "dangerous_type"
        );
        assert_eq!(
            code(check_declared(html, "", "notes.txt")),
            "dangerous_type"
        );
        // Plain-looking bytes declared or named as markup are refused too.
        assert_eq!(
            code(check_declared(MediaKind::Text, "text/html", "a")),
            "dangerous_type"
        );
        assert_eq!(
            code(check_declared(MediaKind::Text, "", "page.HTM")),
            "dangerous_type"
        );
        assert_eq!(
            code(check_declared(MediaKind::Text, "", "app.js")),
            "dangerous_type"
        );
        assert_eq!(
            code(check_declared(MediaKind::Text, "application/rss+xml", "f")),
            "dangerous_type"
        );
        assert_eq!(
            code(check_declared(MediaKind::Other, "", "dir/logo.svg")),
            "dangerous_type"
        );
        assert_eq!(
            code(check_declared(MediaKind::Other, "", "trailing.html.")),
            "dangerous_type"
        );
    }
}
