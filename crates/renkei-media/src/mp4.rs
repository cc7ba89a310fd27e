//! MP4/QuickTime metadata removal: `udta`, `meta`, `uuid` and padding boxes go, chunk offsets follow.

use std::io::{Cursor, Read, Seek, SeekFrom, Write};

use crate::error::MediaError;
use crate::limits::Limits;

/// Boxes removed wherever they appear at the top level or inside the walked containers:
/// user data (`©xyz` GPS, `loci`, `©day`, ...), `meta` (Apple `keys`/`ilst` location, XMP),
/// `uuid` extensions (XMP, vendor data) and padding that may hold stale metadata.
const METADATA_BOXES: [&[u8; 4]; 6] = [b"udta", b"meta", b"uuid", b"free", b"skip", b"wide"];

/// Containers walked to find metadata and the chunk offset tables (`stco`, `co64`).
const WALKED_CONTAINERS: [&[u8; 4]; 8] = [
    b"moov", b"trak", b"mdia", b"minf", b"stbl", b"edts", b"dinf", b"mvex",
];

/// Boxes whose creation and modification times (when the video was recorded) are zeroed.
const TIMESTAMPED_BOXES: [&[u8; 4]; 3] = [b"mvhd", b"tkhd", b"mdhd"];

/// Top-level boxes of fragmented files, whose offsets may be absolute: such files keep their
/// layout, with metadata overwritten in place.
const FRAGMENT_BOXES: [&[u8; 4]; 3] = [b"moof", b"mfra", b"sidx"];

/// Deepest box nesting accepted inside `moov`.
const MAX_DEPTH: usize = 16;

/// Most top-level boxes accepted (a real file has a handful; fragmented ones a few thousand).
const MAX_TOP_LEVEL_BOXES: usize = 100_000;

/// What `sanitize_mp4` removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mp4Report {
    /// Paths of the removed boxes, e.g. `moov/udta`, `moov/trak/meta`, `uuid`.
    pub removed_boxes: Vec<String>,
    /// How much shorter the output is than the input.
    pub bytes_removed: u64,
    /// True when the file was fragmented (or had auxiliary offsets): then the metadata boxes
    /// were overwritten in place by zero-filled `free` boxes and nothing moved.
    pub blanked_in_place: bool,
    /// `mvhd`/`tkhd`/`mdhd` boxes whose recording times were zeroed.
    pub timestamps_cleared: usize,
}

/// Removes metadata from an in-memory MP4/QuickTime file; see [`sanitize_mp4`].
pub fn sanitize_mp4_bytes(
    bytes: &[u8],
    limits: &Limits,
) -> Result<(Vec<u8>, Mp4Report), MediaError> {
    let mut output = Vec::with_capacity(bytes.len());
    let report = sanitize_mp4(&mut Cursor::new(bytes), &mut output, limits)?;
    Ok((output, report))
}

/// Copies an MP4/QuickTime file from `input` to `output` without its metadata boxes.
///
/// Removes `udta`, `meta`, `uuid`, `free`, `skip` and `wide` boxes at the top level and inside
/// `moov`, `trak`, `mdia`, `minf`, `stbl`, `edts`, `dinf` and `mvex`, zeroes the recording
/// times of `mvhd`, `tkhd` and `mdhd`, recomputes the sizes of the parents, and rewrites every
/// `stco`/`co64` chunk offset so that it points at the same media bytes in the output.
/// Only `moov` (at most `limits.max_video_header_bytes`) is held in memory; `mdat` is streamed.
///
/// Fragmented files (`moof`, `mfra`, `sidx`, `mvex`) and files with `saio` offsets keep their
/// exact layout instead: each metadata box becomes a zero-filled `free` box of the same size.
///
/// Not touched: timed metadata tracks (e.g. Apple `mebx`, GoPro `gpmd`) whose samples live in
/// `mdat`, and metadata inside movie fragments.
pub fn sanitize_mp4<R: Read + Seek, W: Write>(
    input: &mut R,
    output: &mut W,
    limits: &Limits,
) -> Result<Mp4Report, MediaError> {
    let file_len = input.seek(SeekFrom::End(0))?;
    if file_len == 0 {
        return Err(MediaError::EmptyFile);
    }
    let top_level = read_top_level_boxes(input, file_len)?;
    let mut movies = top_level.iter().filter(|b| &b.kind == b"moov");
    let movie = match (movies.next(), movies.next()) {
        (Some(movie), None) => movie.clone(),
        (None, _) => return Err(MediaError::malformed_video("there is no moov box")),
        (Some(_), Some(_)) => {
            return Err(MediaError::malformed_video("there are several moov boxes"));
        }
    };
    if movie.size > limits.max_video_header_bytes {
        return Err(MediaError::VideoHeaderTooLarge {
            size: movie.size,
            max: limits.max_video_header_bytes,
        });
    }
    let mut movie_bytes = vec![0; movie.size as usize];
    input.seek(SeekFrom::Start(movie.start))?;
    input.read_exact(&mut movie_bytes)?;
    let movie_tree = parse_box(&movie_bytes, 0)?;

    let fragmented = top_level.iter().any(|b| FRAGMENT_BOXES.contains(&&b.kind))
        || movie_tree.contains_any(&[b"mvex", b"saio"]);
    let mode = if fragmented {
        Mode::BlankInPlace
    } else {
        Mode::Remove
    };
    let mut report = Mp4Report {
        blanked_in_place: fragmented,
        ..Mp4Report::default()
    };

    let mut new_movie = Vec::with_capacity(movie_bytes.len());
    let mut offset_tables = Vec::new();
    write_box(
        &movie_tree,
        "",
        mode,
        &mut new_movie,
        &mut offset_tables,
        &mut report,
    )?;

    // Lay out the output: kept top-level boxes in their order, `moov` at its new size.
    let mut placed = Vec::new();
    let mut position = 0u64;
    for top in &top_level {
        let removed = is_metadata(&top.kind);
        if removed {
            report.removed_boxes.push(box_name(&top.kind));
            if mode == Mode::Remove {
                continue;
            }
        }
        let size = if top.kind == movie.kind && top.start == movie.start {
            new_movie.len() as u64
        } else {
            top.size
        };
        placed.push(Placed {
            old: top.clone(),
            new_start: position,
            blank: removed,
        });
        position += size;
    }
    report.bytes_removed = file_len - position;

    if mode == Mode::Remove {
        patch_chunk_offsets(&mut new_movie, &offset_tables, &placed, &movie)?;
    }

    for place in &placed {
        if place.old.start == movie.start {
            output.write_all(&new_movie)?;
        } else if place.blank {
            write_blank(output, &place.old)?;
        } else {
            input.seek(SeekFrom::Start(place.old.start))?;
            let copied = std::io::copy(&mut input.by_ref().take(place.old.size), output)?;
            if copied != place.old.size {
                return Err(MediaError::malformed_video(
                    "the file ended while copying a box",
                ));
            }
        }
    }
    output.flush()?;
    Ok(report)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Drop metadata boxes and move everything after them.
    Remove,
    /// Overwrite metadata boxes with zero-filled `free` boxes of the same size.
    BlankInPlace,
}

/// A top-level box of the input.
#[derive(Debug, Clone)]
struct TopBox {
    kind: [u8; 4],
    start: u64,
    /// Whole box, header included.
    size: u64,
    header_len: u64,
}

/// A kept top-level box and where it starts in the output.
struct Placed {
    old: TopBox,
    new_start: u64,
    blank: bool,
}

/// A box inside `moov`, borrowed from the movie's bytes.
struct ParsedBox<'a> {
    kind: [u8; 4],
    /// The header exactly as read (8 bytes, or 16 with a 64-bit size).
    header_len: usize,
    body: &'a [u8],
    /// Children, for walked containers.
    children: Option<Vec<ParsedBox<'a>>>,
}

impl ParsedBox<'_> {
    fn total_len(&self) -> usize {
        self.header_len + self.body.len()
    }

    fn contains_any(&self, kinds: &[&[u8; 4]]) -> bool {
        self.children
            .iter()
            .flatten()
            .any(|child| kinds.contains(&&child.kind) || child.contains_any(kinds))
    }
}

/// Where a chunk offset table's entries are in the new `moov`.
struct OffsetTable {
    entries_at: usize,
    count: usize,
    wide: bool,
}

fn is_metadata(kind: &[u8; 4]) -> bool {
    METADATA_BOXES.contains(&kind)
}

fn box_name(kind: &[u8; 4]) -> String {
    kind.iter()
        .map(|&c| {
            if c.is_ascii_graphic() || c == b' ' {
                c as char
            } else {
                '?'
            }
        })
        .collect()
}

fn read_top_level_boxes<R: Read + Seek>(
    input: &mut R,
    file_len: u64,
) -> Result<Vec<TopBox>, MediaError> {
    let mut boxes = Vec::new();
    let mut start = 0u64;
    while start < file_len {
        if boxes.len() == MAX_TOP_LEVEL_BOXES {
            return Err(MediaError::malformed_video("too many top-level boxes"));
        }
        if file_len - start < 8 {
            return Err(MediaError::malformed_video(
                "trailing bytes after the last box",
            ));
        }
        input.seek(SeekFrom::Start(start))?;
        let mut header = [0u8; 16];
        input.read_exact(&mut header[..8])?;
        let declared = u64::from(u32::from_be_bytes([
            header[0], header[1], header[2], header[3],
        ]));
        let kind = [header[4], header[5], header[6], header[7]];
        let (size, header_len) = match declared {
            0 => (file_len - start, 8),
            1 => {
                input
                    .read_exact(&mut header[8..16])
                    .map_err(|_| MediaError::malformed_video("a 64-bit box size is cut off"))?;
                let mut large = [0u8; 8];
                large.copy_from_slice(&header[8..16]);
                (u64::from_be_bytes(large), 16)
            }
            size => (size, 8),
        };
        if size < header_len {
            return Err(MediaError::malformed_video(format!(
                "box {} is smaller than its header",
                box_name(&kind)
            )));
        }
        if size > file_len - start {
            return Err(MediaError::malformed_video(format!(
                "box {} extends past the end of the file (truncated?)",
                box_name(&kind)
            )));
        }
        boxes.push(TopBox {
            kind,
            start,
            size,
            header_len,
        });
        start += size;
    }
    Ok(boxes)
}

/// Parses the box at the start of `bytes` (which must be exactly that box).
fn parse_box(bytes: &[u8], depth: usize) -> Result<ParsedBox<'_>, MediaError> {
    if depth > MAX_DEPTH {
        return Err(MediaError::malformed_video("boxes are nested too deeply"));
    }
    let (kind, header_len, size) = box_header(bytes)?;
    if size != bytes.len() {
        return Err(MediaError::malformed_video(
            "a box's size disagrees with its parent",
        ));
    }
    let body = &bytes[header_len..];
    let children = if WALKED_CONTAINERS.contains(&&kind) {
        let mut children = Vec::new();
        let mut at = 0;
        while at < body.len() {
            let (_, _, child_size) = box_header(&body[at..])?;
            children.push(parse_box(&body[at..at + child_size], depth + 1)?);
            at += child_size;
        }
        Some(children)
    } else {
        None
    };
    Ok(ParsedBox {
        kind,
        header_len,
        body,
        children,
    })
}

/// Kind, header length and total size of the box starting at `bytes[0]`, checked to fit.
fn box_header(bytes: &[u8]) -> Result<([u8; 4], usize, usize), MediaError> {
    let short = || MediaError::malformed_video("a box header is cut off");
    let head: [u8; 8] = bytes
        .get(..8)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(short)?;
    let kind = [head[4], head[5], head[6], head[7]];
    let (size, header_len) = match u32::from_be_bytes([head[0], head[1], head[2], head[3]]) {
        0 => (bytes.len() as u64, 8),
        1 => {
            let large: [u8; 8] = bytes
                .get(8..16)
                .and_then(|b| b.try_into().ok())
                .ok_or_else(short)?;
            (u64::from_be_bytes(large), 16)
        }
        size => (u64::from(size), 8),
    };
    if size < header_len as u64 || size > bytes.len() as u64 {
        return Err(MediaError::malformed_video(format!(
            "box {} does not fit in its parent",
            box_name(&kind)
        )));
    }
    Ok((kind, header_len, size as usize))
}

/// Writes a box header of the same form (32- or 64-bit size) as the original.
fn write_header(out: &mut Vec<u8>, kind: &[u8; 4], header_len: usize, total: usize) {
    if header_len == 16 {
        out.extend_from_slice(&1u32.to_be_bytes());
        out.extend_from_slice(kind);
        out.extend_from_slice(&(total as u64).to_be_bytes());
    } else {
        out.extend_from_slice(&(total as u32).to_be_bytes());
        out.extend_from_slice(kind);
    }
}

fn write_box(
    node: &ParsedBox<'_>,
    parent_path: &str,
    mode: Mode,
    out: &mut Vec<u8>,
    offset_tables: &mut Vec<OffsetTable>,
    report: &mut Mp4Report,
) -> Result<(), MediaError> {
    let path = if parent_path.is_empty() {
        box_name(&node.kind)
    } else {
        format!("{parent_path}/{}", box_name(&node.kind))
    };
    if is_metadata(&node.kind) && !parent_path.is_empty() {
        report.removed_boxes.push(path);
        if mode == Mode::BlankInPlace {
            write_header(out, b"free", node.header_len, node.total_len());
            out.resize(out.len() + node.body.len(), 0);
        }
        return Ok(());
    }
    let start = out.len();
    if let Some(children) = &node.children {
        write_header(out, &node.kind, node.header_len, 0);
        for child in children {
            write_box(child, &path, mode, out, offset_tables, report)?;
        }
        let total = out.len() - start;
        if node.header_len == 8 && total > u32::MAX as usize {
            return Err(MediaError::malformed_video(
                "a rewritten box outgrew a 32-bit size",
            ));
        }
        let mut header = Vec::with_capacity(16);
        write_header(&mut header, &node.kind, node.header_len, total);
        out[start..start + header.len()].copy_from_slice(&header);
        return Ok(());
    }
    write_header(out, &node.kind, node.header_len, node.total_len());
    let body_at = out.len();
    out.extend_from_slice(node.body);
    match &node.kind {
        b"stco" | b"co64" => {
            let wide = &node.kind == b"co64";
            let count = node
                .body
                .get(4..8)
                .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
                .ok_or_else(|| MediaError::malformed_video("a chunk offset table is cut off"))?;
            let entry_len = if wide { 8 } else { 4 };
            if count.saturating_mul(entry_len) > node.body.len() - 8 {
                return Err(MediaError::malformed_video(
                    "a chunk offset table is cut off",
                ));
            }
            offset_tables.push(OffsetTable {
                entries_at: body_at + 8,
                count,
                wide,
            });
        }
        kind if TIMESTAMPED_BOXES.contains(&kind) => {
            // FullBox: version (1 byte), flags (3), then creation and modification times,
            // 32-bit each in version 0 and 64-bit each in version 1.
            let times_len = match node.body.first() {
                Some(1) => 16,
                _ => 8,
            };
            if node.body.len() >= 4 + times_len {
                out[body_at + 4..body_at + 4 + times_len].fill(0);
                report.timestamps_cleared += 1;
            }
        }
        _ => {}
    }
    Ok(())
}

/// Moves every chunk offset to where its byte is in the output.
fn patch_chunk_offsets(
    movie: &mut [u8],
    tables: &[OffsetTable],
    placed: &[Placed],
    old_movie: &TopBox,
) -> Result<(), MediaError> {
    let relocate = |old: u64| -> Result<u64, MediaError> {
        let index = placed.partition_point(|p| p.old.start <= old);
        let place = index
            .checked_sub(1)
            .map(|i| &placed[i])
            .filter(|p| old < p.old.start + p.old.size && p.old.start != old_movie.start)
            .ok_or_else(|| {
                MediaError::malformed_video("a chunk offset points outside the media data")
            })?;
        Ok(place.new_start + (old - place.old.start))
    };
    for table in tables {
        for entry in 0..table.count {
            if table.wide {
                let at = table.entries_at + entry * 8;
                let mut raw = [0u8; 8];
                raw.copy_from_slice(&movie[at..at + 8]);
                let new = relocate(u64::from_be_bytes(raw))?;
                movie[at..at + 8].copy_from_slice(&new.to_be_bytes());
            } else {
                let at = table.entries_at + entry * 4;
                let old =
                    u32::from_be_bytes([movie[at], movie[at + 1], movie[at + 2], movie[at + 3]]);
                // Only earlier bytes are ever removed, so the new offset is never larger.
                let new = u32::try_from(relocate(u64::from(old))?).map_err(|_| {
                    MediaError::malformed_video("a chunk offset does not fit in 32 bits")
                })?;
                movie[at..at + 4].copy_from_slice(&new.to_be_bytes());
            }
        }
    }
    Ok(())
}

/// A zero-filled `free` box exactly as long as `top`.
fn write_blank<W: Write>(output: &mut W, top: &TopBox) -> Result<(), MediaError> {
    let mut header = Vec::with_capacity(16);
    if top.header_len == 16 {
        header.extend_from_slice(&1u32.to_be_bytes());
        header.extend_from_slice(b"free");
        header.extend_from_slice(&top.size.to_be_bytes());
    } else {
        // A size-0 ("to end of file") box is rewritten with its real size.
        let size = u32::try_from(top.size)
            .map_err(|_| MediaError::malformed_video("a box to blank is too large"))?;
        header.extend_from_slice(&size.to_be_bytes());
        header.extend_from_slice(b"free");
    }
    output.write_all(&header)?;
    std::io::copy(
        &mut std::io::repeat(0).take(top.size - header.len() as u64),
        output,
    )?;
    Ok(())
}
