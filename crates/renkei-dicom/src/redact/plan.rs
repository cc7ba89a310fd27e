//! The decision of a redaction, as data: the rectangles checked against the image, and every
//! attribute the derived instance changes.

use dicom_core::Tag;
use dicom_dictionary_std::tags;
use dicom_object::mem::InMemElement;
use dicom_object::{DefaultDicomObject, InMemDicomObject};

use super::derive::derivation;
use super::error::RedactError;
use super::{MAX_RECTANGLES, Rect};
use crate::render::{RenderError, frame_count};
use crate::uid::is_valid_uid;

/// One change to the derived instance's attributes.
#[derive(Debug, Clone)]
pub enum Edit {
    /// The element replaces any element of its tag.
    Put(InMemElement),
    /// The element goes.
    Remove(Tag),
}

/// What a redaction will do.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Checked: inside the image, not empty.
    pub rects: Vec<Rect>,
    pub rows: u32,
    pub columns: u32,
    /// Every one of them is blanked.
    pub frames: u32,
    /// The derived instance's SOP Instance UID.
    pub new_uid: String,
    /// The attributes that record the derivation (the pixel layout is written by `apply`).
    pub edits: Vec<Edit>,
}

/// Decides the redaction of `obj` by `rects` into an instance `new_uid`; nothing is decoded.
pub fn plan(obj: &DefaultDicomObject, rects: &[Rect], new_uid: &str) -> Result<Plan, RedactError> {
    if !is_valid_uid(new_uid) {
        return Err(RedactError::InvalidUid);
    }
    let frames = frame_count(obj);
    if frames == 0 {
        return Err(RenderError::NoPixelData.into());
    }
    let rows = dimension(obj, tags::ROWS, "(0028,0010)", "Rows")?;
    let columns = dimension(obj, tags::COLUMNS, "(0028,0011)", "Columns")?;
    check_rects(rects, columns, rows)?;
    Ok(Plan {
        rects: rects.to_vec(),
        rows,
        columns,
        frames,
        new_uid: new_uid.to_owned(),
        edits: derivation(obj, rects.len(), new_uid),
    })
}

/// Ok when there are 1 to [`MAX_RECTANGLES`] rectangles, each non-empty and inside the image.
pub fn check_rects(rects: &[Rect], columns: u32, rows: u32) -> Result<(), RedactError> {
    if rects.is_empty() {
        return Err(RedactError::NoRectangles);
    }
    if rects.len() > MAX_RECTANGLES {
        return Err(RedactError::TooManyRectangles {
            count: rects.len(),
            limit: MAX_RECTANGLES,
        });
    }
    for (index, r) in rects.iter().enumerate() {
        if r.width == 0 || r.height == 0 {
            return Err(RedactError::EmptyRectangle { index });
        }
        let right = u64::from(r.x) + u64::from(r.width);
        let bottom = u64::from(r.y) + u64::from(r.height);
        if right > u64::from(columns) || bottom > u64::from(rows) {
            return Err(RedactError::OutsideImage {
                index,
                columns,
                rows,
            });
        }
    }
    Ok(())
}

fn dimension(
    obj: &InMemDicomObject,
    tag: Tag,
    tag_name: &'static str,
    name: &'static str,
) -> Result<u32, RedactError> {
    obj.get(tag)
        .and_then(|e| e.to_int::<u32>().ok())
        .filter(|v| *v > 0)
        .ok_or_else(|| RenderError::attribute(tag_name, name, "missing or zero").into())
}
