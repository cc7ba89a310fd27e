//! MP4/QuickTime metadata removal on hand-built files (and real ones when ffmpeg is installed).

mod common;

use common::{contains, ffmpeg_available};
use renkei_media::{Limits, MediaError, Mp4Report, sanitize_mp4_bytes};

const GPS: &[u8] = b"+35.6+139.7/";
const CHUNKS: [&[u8]; 2] = [b"CHUNK-ONE", b"CHUNK-TWO"];
const RECORDED_AT: u32 = 0xDEAD_BEEF;

fn bx(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut out = ((body.len() + 8) as u32).to_be_bytes().to_vec();
    out.extend_from_slice(kind);
    out.extend_from_slice(body);
    out
}

fn bx64(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut out = 1u32.to_be_bytes().to_vec();
    out.extend_from_slice(kind);
    out.extend_from_slice(&((body.len() + 16) as u64).to_be_bytes());
    out.extend_from_slice(body);
    out
}

fn concat(parts: &[Vec<u8>]) -> Vec<u8> {
    parts.concat()
}

/// A version-0 header box (mvhd/tkhd/mdhd) with creation and modification times.
fn timed(kind: &[u8; 4], rest_len: usize) -> Vec<u8> {
    let mut body = vec![0, 0, 0, 0];
    body.extend_from_slice(&RECORDED_AT.to_be_bytes());
    body.extend_from_slice(&RECORDED_AT.to_be_bytes());
    body.resize(body.len() + rest_len, 0x11);
    bx(kind, &body)
}

fn chunk_offsets(offsets: &[u64], wide: bool) -> Vec<u8> {
    let mut body = vec![0, 0, 0, 0];
    body.extend_from_slice(&(offsets.len() as u32).to_be_bytes());
    for offset in offsets {
        if wide {
            body.extend_from_slice(&offset.to_be_bytes());
        } else {
            body.extend_from_slice(&(*offset as u32).to_be_bytes());
        }
    }
    bx(if wide { b"co64" } else { b"stco" }, &body)
}

fn user_data() -> Vec<u8> {
    let mut xyz = vec![0, GPS.len() as u8, 0x15, 0xC7];
    xyz.extend_from_slice(GPS);
    concat(&[
        bx(b"\xA9xyz", &xyz),
        bx(b"\xA9day", b"\0\x0a\x15\xc72019-07-08"),
    ])
}

fn xmp_uuid() -> Vec<u8> {
    let mut body = vec![
        0xBE, 0x7A, 0xCF, 0xCB, 0x97, 0xA9, 0x42, 0xE8, 0x9C, 0x71, 0x99, 0x94, 0x91, 0xE3, 0xAF,
        0xAC,
    ];
    body.extend_from_slice(b"<x:xmpmeta>XMP-SECRET-PATIENT</x:xmpmeta>");
    bx(b"uuid", &body)
}

fn apple_meta() -> Vec<u8> {
    let mut body = vec![0, 0, 0, 0];
    body.extend_from_slice(&bx(b"keys", b"com.apple.quicktime.location.ISO6709"));
    body.extend_from_slice(&bx(b"ilst", GPS));
    bx(b"meta", &body)
}

fn movie(offsets: &[u64], wide: bool, with_metadata: bool) -> Vec<u8> {
    let stbl = bx(
        b"stbl",
        &concat(&[bx(b"stsd", &[0; 8]), chunk_offsets(offsets, wide)]),
    );
    let mdia = bx(
        b"mdia",
        &concat(&[
            timed(b"mdhd", 12),
            bx(b"hdlr", &[0; 25]),
            bx(b"minf", &stbl),
        ]),
    );
    let mut trak = vec![timed(b"tkhd", 72)];
    if with_metadata {
        trak.push(bx(b"udta", &user_data()));
        trak.push(apple_meta());
    }
    trak.push(mdia);
    let mut moov = vec![timed(b"mvhd", 88), bx(b"trak", &concat(&trak))];
    if with_metadata {
        moov.push(bx(b"udta", &user_data()));
        moov.push(apple_meta());
        moov.push(xmp_uuid());
    }
    bx(b"moov", &concat(&moov))
}

fn media_data() -> Vec<u8> {
    concat(&[
        b"padding-".to_vec(),
        CHUNKS[0].to_vec(),
        b"|".to_vec(),
        CHUNKS[1].to_vec(),
    ])
}

/// Offsets of the two chunks given where the mdat payload starts.
fn offsets_from(payload_at: u64) -> Vec<u64> {
    vec![payload_at + 8, payload_at + 8 + CHUNKS[0].len() as u64 + 1]
}

fn ftyp() -> Vec<u8> {
    bx(b"ftyp", b"isom\0\0\x02\0isomiso2mp41")
}

/// ftyp, moov, free (stale metadata), top-level uuid, mdat: the "fast start" layout.
fn moov_first(wide: bool, large_mdat: bool) -> Vec<u8> {
    let free = bx(b"free", b"STALE-GPS +35.6+139.7/");
    let mdat_header = if large_mdat { 16 } else { 8 };
    let before_mdat = |moov_len: usize| ftyp().len() + moov_len + free.len() + xmp_uuid().len();
    let moov_len = movie(&[0, 0], wide, true).len();
    let offsets = offsets_from((before_mdat(moov_len) + mdat_header) as u64);
    let mdat = if large_mdat {
        bx64(b"mdat", &media_data())
    } else {
        bx(b"mdat", &media_data())
    };
    concat(&[ftyp(), movie(&offsets, wide, true), free, xmp_uuid(), mdat])
}

/// ftyp, mdat, moov: the layout a camera writes while recording.
fn mdat_first() -> Vec<u8> {
    let mdat = bx(b"mdat", &media_data());
    let offsets = offsets_from((ftyp().len() + 8) as u64);
    concat(&[ftyp(), mdat, movie(&offsets, false, true)])
}

/// A parsed box: kind, payload range and children (for containers).
#[derive(Debug)]
struct Node {
    kind: [u8; 4],
    start: usize,
    end: usize,
    children: Vec<Node>,
}

/// Re-parses a whole file strictly: every size must add up exactly.
fn parse(bytes: &[u8], start: usize, end: usize) -> Vec<Node> {
    let containers: [&[u8; 4]; 6] = [b"moov", b"trak", b"mdia", b"minf", b"stbl", b"udta"];
    let mut nodes = Vec::new();
    let mut at = start;
    while at < end {
        let size32 = u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        let kind: [u8; 4] = bytes[at + 4..at + 8].try_into().unwrap();
        let (size, header) = if size32 == 1 {
            (
                u64::from_be_bytes(bytes[at + 8..at + 16].try_into().unwrap()) as usize,
                16,
            )
        } else {
            (size32, 8)
        };
        assert!(
            size >= header && at + size <= end,
            "box {kind:?} overflows its parent"
        );
        let children = if containers.contains(&&kind) {
            parse(bytes, at + header, at + size)
        } else {
            Vec::new()
        };
        nodes.push(Node {
            kind,
            start: at + header,
            end: at + size,
            children,
        });
        at += size;
    }
    assert_eq!(at, end, "sizes do not add up");
    nodes
}

fn find<'a>(nodes: &'a [Node], path: &[&[u8; 4]]) -> Option<&'a Node> {
    let first = path.first()?;
    let node = nodes.iter().find(|n| &&n.kind == first)?;
    if path.len() == 1 {
        Some(node)
    } else {
        find(&node.children, &path[1..])
    }
}

fn kinds(nodes: &[Node]) -> Vec<String> {
    nodes
        .iter()
        .map(|n| String::from_utf8_lossy(&n.kind).into_owned())
        .collect()
}

/// The chunk offsets stored in the file's `stco` or `co64`.
fn stored_offsets(bytes: &[u8], tree: &[Node]) -> Vec<u64> {
    let stbl = [b"moov", b"trak", b"mdia", b"minf", b"stbl"];
    let table = find(tree, &stbl)
        .and_then(|stbl| {
            parse(bytes, stbl.start, stbl.end)
                .into_iter()
                .find(|n| &n.kind == b"stco" || &n.kind == b"co64")
        })
        .expect("chunk offset table");
    let body = &bytes[table.start..table.end];
    let count = u32::from_be_bytes(body[4..8].try_into().unwrap()) as usize;
    let wide = &table.kind == b"co64";
    (0..count)
        .map(|i| {
            if wide {
                u64::from_be_bytes(body[8 + i * 8..16 + i * 8].try_into().unwrap())
            } else {
                u64::from(u32::from_be_bytes(
                    body[8 + i * 4..12 + i * 4].try_into().unwrap(),
                ))
            }
        })
        .collect()
}

fn chunks_at(bytes: &[u8], offsets: &[u64]) -> Vec<Vec<u8>> {
    offsets
        .iter()
        .zip(CHUNKS)
        .map(|(offset, chunk)| bytes[*offset as usize..*offset as usize + chunk.len()].to_vec())
        .collect()
}

fn assert_no_metadata_left(output: &[u8]) {
    for planted in [
        GPS,
        b"\xA9xyz",
        b"\xA9day",
        b"XMP-SECRET",
        b"STALE-GPS",
        b"com.apple.quicktime",
    ] {
        assert!(
            !contains(output, planted),
            "{:?} left",
            String::from_utf8_lossy(planted)
        );
    }
    assert!(
        !contains(output, &RECORDED_AT.to_be_bytes()),
        "recording time left"
    );
}

fn sanitize(input: &[u8]) -> (Vec<u8>, Mp4Report) {
    sanitize_mp4_bytes(input, &Limits::default()).expect("sanitised")
}

fn check_sanitised(input: &[u8], wide: bool) -> Mp4Report {
    // The fixture is right: offsets point at the chunks before.
    let input_tree = parse(input, 0, input.len());
    let expected: Vec<Vec<u8>> = CHUNKS.iter().map(|c| c.to_vec()).collect();
    assert_eq!(
        chunks_at(input, &stored_offsets(input, &input_tree)),
        expected
    );
    assert!(contains(input, GPS));

    let (output, report) = sanitize(input);
    assert_no_metadata_left(&output);
    let tree = parse(&output, 0, output.len());
    assert_eq!(
        kinds(find(&tree, &[b"moov"]).unwrap().children.as_slice()),
        ["mvhd", "trak"]
    );
    assert_eq!(
        kinds(&find(&tree, &[b"moov", b"trak"]).unwrap().children),
        ["tkhd", "mdia"]
    );
    let offsets = stored_offsets(&output, &tree);
    assert_eq!(
        chunks_at(&output, &offsets),
        expected,
        "offsets follow the media data"
    );
    let table = if wide { "co64" } else { "stco" };
    assert!(contains(&output, table.as_bytes()));
    assert_eq!(report.bytes_removed, (input.len() - output.len()) as u64);
    assert_eq!(report.timestamps_cleared, 3);
    assert!(!report.blanked_in_place);
    report
}

#[test]
fn moov_before_mdat_loses_metadata_and_its_chunk_offsets_move() {
    let input = moov_first(false, false);
    let report = check_sanitised(&input, false);
    for path in [
        "moov/trak/udta",
        "moov/trak/meta",
        "moov/udta",
        "moov/meta",
        "moov/uuid",
        "free",
        "uuid",
    ] {
        assert!(
            report.removed_boxes.iter().any(|p| p == path),
            "{path} in {:?}",
            report.removed_boxes
        );
    }
    assert!(report.bytes_removed > 0);
}

#[test]
fn co64_offsets_and_a_64_bit_mdat_header_are_handled() {
    check_sanitised(&moov_first(true, true), true);
}

#[test]
fn moov_after_mdat_keeps_offsets_unchanged() {
    let input = mdat_first();
    check_sanitised(&input, false);
    let (output, _) = sanitize(&input);
    let before = stored_offsets(&input, &parse(&input, 0, input.len()));
    let after = stored_offsets(&output, &parse(&output, 0, output.len()));
    assert_eq!(before, after);
}

#[test]
fn a_clean_file_comes_out_byte_for_byte_except_recording_times() {
    let mdat = bx(b"mdat", &media_data());
    let offsets = offsets_from((ftyp().len() + 8) as u64);
    let input = concat(&[ftyp(), mdat, movie(&offsets, false, false)]);
    let (output, report) = sanitize(&input);
    assert_eq!(output.len(), input.len());
    assert!(report.removed_boxes.is_empty());
    let differing = input.iter().zip(&output).filter(|(a, b)| a != b).count();
    assert_eq!(
        differing,
        3 * 8,
        "only the three pairs of 32-bit times change"
    );
}

#[test]
fn fragmented_files_are_blanked_in_place_without_moving_anything() {
    let input = concat(&[
        mdat_first(),
        bx(b"moof", &bx(b"mfhd", &[0; 8])),
        bx(b"mdat", b"more"),
    ]);
    let (output, report) = sanitize(&input);
    assert!(report.blanked_in_place);
    assert_eq!(output.len(), input.len());
    assert_eq!(report.bytes_removed, 0);
    assert_no_metadata_left(&output);
    let tree = parse(&output, 0, output.len());
    assert_eq!(
        kinds(&find(&tree, &[b"moov"]).unwrap().children),
        ["mvhd", "trak", "free", "free", "free"]
    );
    let expected: Vec<Vec<u8>> = CHUNKS.iter().map(|c| c.to_vec()).collect();
    assert_eq!(
        chunks_at(&output, &stored_offsets(&output, &tree)),
        expected
    );
}

fn code(result: Result<(Vec<u8>, Mp4Report), MediaError>) -> &'static str {
    result.err().map(|e| e.code()).unwrap_or("ok")
}

#[test]
fn broken_files_are_refused() {
    let limits = Limits::default();
    assert_eq!(code(sanitize_mp4_bytes(&[], &limits)), "empty_file");
    let input = moov_first(false, false);
    // Cut inside mdat: the last box extends past the end.
    assert_eq!(
        code(sanitize_mp4_bytes(&input[..input.len() - 3], &limits)),
        "malformed_video"
    );
    // No moov at all.
    assert_eq!(
        code(sanitize_mp4_bytes(
            &concat(&[ftyp(), bx(b"mdat", b"x")]),
            &limits
        )),
        "malformed_video"
    );
    // A child box claiming more than its parent holds.
    let mut lying = input.clone();
    let trak = lying.windows(4).position(|w| w == b"trak").unwrap() - 4;
    lying[trak..trak + 4].copy_from_slice(&0x7FFF_FFFFu32.to_be_bytes());
    assert_eq!(code(sanitize_mp4_bytes(&lying, &limits)), "malformed_video");
    // A moov over the limit is not read into memory.
    let small = Limits {
        max_video_header_bytes: 64,
        ..Limits::default()
    };
    assert_eq!(
        code(sanitize_mp4_bytes(&input, &small)),
        "video_header_too_large"
    );
}

#[test]
fn deeply_nested_boxes_are_refused_without_overflowing_the_stack() {
    let mut nested = bx(b"trak", &[]);
    for _ in 0..10_000 {
        nested = bx(b"trak", &nested);
    }
    let input = concat(&[ftyp(), bx(b"moov", &nested)]);
    assert_eq!(
        code(sanitize_mp4_bytes(&input, &Limits::default())),
        "malformed_video"
    );
}

#[test]
fn cut_or_corrupted_videos_never_panic() {
    let input = moov_first(false, false);
    for cut in 0..input.len() {
        let _ = sanitize_mp4_bytes(&input[..cut], &Limits::default());
    }
    for at in 0..input.len() {
        for flip in [0x01, 0x80, 0xFF] {
            let mut corrupted = input.clone();
            corrupted[at] ^= flip;
            if let Err(error) = sanitize_mp4_bytes(&corrupted, &Limits::default()) {
                assert!(
                    ["malformed_video", "video_header_too_large"].contains(&error.code()),
                    "{error:?}"
                );
            }
        }
    }
}

mod with_ffmpeg {
    //! Real files from ffmpeg; skipped (loudly) when ffmpeg is not installed.

    use super::*;
    use std::process::Command;

    fn ffmpeg(args: &[&str]) -> std::process::Output {
        let output = Command::new("ffmpeg")
            .args(["-v", "error", "-nostdin", "-y"])
            .args(args)
            .output()
            .expect("ffmpeg runs");
        assert!(
            output.status.success(),
            "ffmpeg {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        output
    }

    /// MD5 of every decoded frame: equal only if every sample is found where it belongs.
    fn decoded_frames_md5(path: &std::path::Path) -> String {
        let output = ffmpeg(&[
            "-i",
            path.to_str().unwrap(),
            "-map",
            "0:v",
            "-f",
            "framemd5",
            "-",
        ]);
        assert!(
            output.stderr.is_empty(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .filter(|line| !line.starts_with('#'))
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn check(extension: &str, extra: &[&str], planted: &[&[u8]]) {
        if !ffmpeg_available() {
            return;
        }
        let dir =
            std::env::temp_dir().join(format!("renkei-media-{}-{extension}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let input_path = dir.join(format!("in.{extension}"));
        let output_path = dir.join(format!("out.{extension}"));
        let mut args = vec![
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=64x48:rate=10",
            "-t",
            "2",
            "-c:v",
            "mpeg4",
            "-metadata",
            "location=+35.6586+139.7454/",
            "-metadata",
            "title=SECRET-TITLE",
        ];
        args.extend_from_slice(extra);
        args.push(input_path.to_str().unwrap());
        ffmpeg(&args);
        let input = std::fs::read(&input_path).unwrap();
        for marker in planted {
            assert!(
                contains(&input, marker),
                "fixture lacks {:?}",
                String::from_utf8_lossy(marker)
            );
        }
        let (output, report) = sanitize(&input);
        std::fs::write(&output_path, &output).unwrap();
        for marker in planted {
            assert!(
                !contains(&output, marker),
                "{:?} left",
                String::from_utf8_lossy(marker)
            );
        }
        assert!(
            report.removed_boxes.iter().any(|p| p == "moov/udta"),
            "{report:?}"
        );
        assert_eq!(
            decoded_frames_md5(&input_path),
            decoded_frames_md5(&output_path)
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn real_mp4_with_moov_first_plays_identically_without_location_or_title() {
        check(
            "mp4",
            &["-movflags", "+faststart"],
            &[b"loci", b"SECRET-TITLE"],
        );
    }

    #[test]
    fn real_quicktime_with_moov_last_plays_identically_without_location_or_title() {
        check(
            "mov",
            &[],
            &[b"+35.6586+139.7454/", b"\xA9xyz", b"SECRET-TITLE"],
        );
    }
}
