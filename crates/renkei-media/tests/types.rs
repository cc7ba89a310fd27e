//! Upload screening end to end: bytes sniffed, declarations checked, handling chosen.

mod common;

use common::*;
use image::DynamicImage;
use renkei_media::{
    DangerousKind, Handling, MediaKind, SNIFF_LEN, check_declared, handling, safe_file_name, sniff,
};

/// Sniffs like a caller holding only the first bytes of a stream, then checks the declaration.
fn screen(bytes: &[u8], declared_mime: &str, name: &str) -> Result<MediaKind, &'static str> {
    let kind = sniff(&bytes[..bytes.len().min(SNIFF_LEN)]);
    check_declared(kind, declared_mime, name).map_err(|e| e.code())?;
    Ok(kind)
}

const PDF: &[u8] = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n";
const HTML: &[u8] = b"<!DOCTYPE html>\n<html><body><script>fetch('/api/me')</script></body></html>";

#[test]
fn real_photos_pass_under_their_own_names() {
    let picture = DynamicImage::ImageRgb8(marked_picture(32, 32));
    let jpeg = jpeg_with_metadata(&marked_picture(32, 32), 6);
    assert_eq!(
        screen(&jpeg, "image/jpeg", "IMG_0001.JPG"),
        Ok(MediaKind::Jpeg)
    );
    assert_eq!(
        screen(&encode_png(&picture, None), "image/png", "a.png"),
        Ok(MediaKind::Png)
    );
    assert_eq!(
        screen(&encode_webp_lossless(&picture), "image/webp", "a.webp"),
        Ok(MediaKind::WebP)
    );
    assert_eq!(handling(MediaKind::Jpeg), Handling::SanitizePhoto);
}

#[test]
fn a_pdf_named_jpg_is_a_type_mismatch() {
    assert_eq!(screen(PDF, "image/jpeg", "x.jpg"), Err("type_mismatch"));
    assert_eq!(
        screen(PDF, "application/octet-stream", "x.jpg"),
        Err("type_mismatch")
    );
    assert_eq!(
        screen(PDF, "application/pdf", "紹介状.pdf"),
        Ok(MediaKind::Pdf)
    );
    assert_eq!(handling(MediaKind::Pdf), Handling::StoreAsIs);
}

#[test]
fn html_named_png_is_refused_as_dangerous() {
    assert_eq!(sniff(HTML), MediaKind::Dangerous(DangerousKind::Html));
    assert_eq!(screen(HTML, "image/png", "x.png"), Err("dangerous_type"));
    assert_eq!(
        screen(HTML, "text/plain", "notes.txt"),
        Err("dangerous_type")
    );
    assert_eq!(handling(sniff(HTML)), Handling::Refuse);
}

#[test]
fn svg_with_script_is_refused_even_as_an_image() {
    let svg = b"<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>";
    assert_eq!(screen(svg, "image/png", "logo.png"), Err("dangerous_type"));
    assert_eq!(screen(svg, "", "logo"), Err("dangerous_type"));
}

#[test]
fn a_jpeg_with_html_appended_is_still_a_jpeg_and_is_rebuilt_from_pixels() {
    // Polyglot: valid JPEG bytes first, markup after the end marker.
    let mut polyglot = encode_jpeg(&marked_picture(32, 32), 90);
    polyglot.extend_from_slice(HTML);
    assert_eq!(
        screen(&polyglot, "image/jpeg", "x.jpg"),
        Ok(MediaKind::Jpeg)
    );
    let photo = renkei_media::sanitize_photo(&polyglot, &renkei_media::Limits::default())
        .expect("sanitised");
    assert!(!contains(&photo.bytes, b"<script"));
}

#[test]
fn heic_is_recognised_and_refused() {
    let heic = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic\0\0\0\x08free";
    assert_eq!(
        screen(heic, "image/heic", "IMG_0002.HEIC"),
        Ok(MediaKind::Heic)
    );
    assert_eq!(
        screen(heic, "image/jpeg", "IMG_0002.jpg"),
        Err("type_mismatch")
    );
    assert_eq!(handling(MediaKind::Heic), Handling::Refuse);
}

#[test]
fn names_are_cleaned_independently_of_the_content_check() {
    // The check looks at the name as given; the stored name is the cleaned one.
    let name = "../../患者\u{202E}gpj.exe";
    assert_eq!(screen(PDF, "", name), Ok(MediaKind::Pdf));
    assert_eq!(safe_file_name(name).as_deref(), Ok("患者gpj.exe"));
}
