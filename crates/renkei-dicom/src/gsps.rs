//! Annotations as a DICOM Grayscale Softcopy Presentation State (PS3.3 A.33.1): what a user drew
//! on one frame, decided as data ([`plan`]), then written as a Part 10 object that references the
//! de-identified image and copies its de-identified patient and study attributes; and read back.

use dicom_core::value::{DataSetSequence, PrimitiveValue, Value};
use dicom_core::{DataElement, Length, Tag, VR};
use dicom_object::{FileMetaTableBuilder, InMemDicomObject};
use serde::{Deserialize, Serialize};

use crate::engine::text_value;

/// Grayscale Softcopy Presentation State Storage.
pub const GSPS_SOP_CLASS: &str = "1.2.840.10008.5.1.4.1.1.11.1";
/// Explicit VR Little Endian, what the object is written in.
const EXPLICIT_LE: &str = "1.2.840.10008.1.2.1";
/// At most this many shapes in one presentation state.
pub const MAX_SHAPES: usize = 100;
/// Unformatted Text Value is ST: at most 1,024 characters.
pub const MAX_TEXT: usize = 1024;

/// A point in image pixels: (column, row), (0, 0) the top left corner of the top left pixel
/// (DICOM's PIXEL annotation units).
pub type Point = [f32; 2];

/// One thing drawn on a frame.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Shape {
    /// An arrow pointing at `to`.
    Arrow {
        #[schema(value_type = Vec<f32>)]
        from: Point,
        #[schema(value_type = Vec<f32>)]
        to: Point,
    },
    /// A length measurement. Its label (mm, or pixels without Pixel Spacing) is written by
    /// renkei and read back; one sent is ignored.
    Length {
        #[schema(value_type = Vec<f32>)]
        from: Point,
        #[schema(value_type = Vec<f32>)]
        to: Point,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        label: Option<String>,
    },
    /// An axis-aligned ellipse (a circle when both radii are equal).
    Ellipse {
        #[schema(value_type = Vec<f32>)]
        center: Point,
        #[schema(value_type = Vec<f32>)]
        radius: Point,
    },
    /// Free text whose left end and baseline are at `at`.
    Text {
        #[schema(value_type = Vec<f32>)]
        at: Point,
        text: String,
    },
}

/// The image (one frame of it) that annotations are drawn on, as the stored instance says.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageRef {
    pub sop_class: String,
    pub sop_uid: String,
    /// 1-based; `None` for a single-frame image.
    pub frame: Option<u32>,
    pub rows: u32,
    pub columns: u32,
    /// (row, column) spacing in mm.
    pub spacing: Option<[f64; 2]>,
    /// MONOCHROME1: the presentation LUT inverts.
    pub inverted: bool,
}

/// Why annotations cannot be written; messages never hold user text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GspsError {
    #[error("nothing is drawn")]
    Empty,
    #[error("at most {MAX_SHAPES} shapes in one presentation state")]
    TooMany,
    #[error("a shape lies outside the image")]
    Outside,
    #[error("a text is empty or longer than {MAX_TEXT} characters")]
    BadText,
    #[error("the presentation state could not be written")]
    Unwritable,
}

impl GspsError {
    /// A stable code.
    pub fn code(&self) -> &'static str {
        match self {
            GspsError::Empty => "annotation_empty",
            GspsError::TooMany => "annotation_too_many",
            GspsError::Outside => "annotation_outside_image",
            GspsError::BadText => "annotation_bad_text",
            GspsError::Unwritable => "annotation_unwritable",
        }
    }
}

/// A graphic layer: one per kind of shape, so a reader tells an arrow from a length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layer {
    Arrows,
    Lengths,
    Ellipses,
    Texts,
}

impl Layer {
    const ALL: [Layer; 4] = [Layer::Arrows, Layer::Lengths, Layer::Ellipses, Layer::Texts];

    /// Graphic Layer (0070,0002), a CS.
    pub fn name(self) -> &'static str {
        match self {
            Layer::Arrows => "ARROWS",
            Layer::Lengths => "LENGTHS",
            Layer::Ellipses => "ELLIPSES",
            Layer::Texts => "TEXT",
        }
    }

    fn description(self) -> &'static str {
        match self {
            Layer::Arrows => "Arrows",
            Layer::Lengths => "Length measurements",
            Layer::Ellipses => "Circles and ellipses",
            Layer::Texts => "Free text",
        }
    }

    fn of(shape: &Shape) -> Layer {
        match shape {
            Shape::Arrow { .. } => Layer::Arrows,
            Shape::Length { .. } => Layer::Lengths,
            Shape::Ellipse { .. } => Layer::Ellipses,
            Shape::Text { .. } => Layer::Texts,
        }
    }

    fn named(name: &str) -> Option<Layer> {
        Layer::ALL.into_iter().find(|l| l.name() == name)
    }
}

/// Graphic Type (0070,0023).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GraphicType {
    Polyline,
    Ellipse,
}

impl GraphicType {
    fn name(self) -> &'static str {
        match self {
            GraphicType::Polyline => "POLYLINE",
            GraphicType::Ellipse => "ELLIPSE",
        }
    }
}

/// One item of the Graphic Object Sequence.
#[derive(Debug, Clone, PartialEq)]
pub struct Graphic {
    pub kind: GraphicType,
    pub points: Vec<Point>,
}

/// One item of the Text Object Sequence, anchored at a point.
#[derive(Debug, Clone, PartialEq)]
pub struct Text {
    pub anchor: Point,
    pub value: String,
}

/// One item of the Graphic Annotation Sequence: a layer's graphics and texts on the frame.
#[derive(Debug, Clone, PartialEq)]
pub struct Annotation {
    pub layer: Layer,
    pub graphics: Vec<Graphic>,
    pub texts: Vec<Text>,
}

/// The arrowhead's wings: 12 % of the arrow's length (at least 4 pixels), 25° off its shaft.
fn arrowhead(from: Point, to: Point) -> [Point; 2] {
    let (dx, dy) = (from[0] - to[0], from[1] - to[1]);
    let length = dx.hypot(dy).max(f32::EPSILON);
    let wing = (length * 0.12).max(4.0);
    let angle = 25f32.to_radians();
    let turn = |a: f32| {
        let (s, c) = a.sin_cos();
        [
            to[0] + (dx * c - dy * s) / length * wing,
            to[1] + (dx * s + dy * c) / length * wing,
        ]
    };
    [turn(angle), turn(-angle)]
}

/// A length's label: mm with one decimal from the (row, column) spacing, else pixels.
pub fn length_label(from: Point, to: Point, spacing: Option<[f64; 2]>) -> String {
    let dx = f64::from(to[0] - from[0]);
    let dy = f64::from(to[1] - from[1]);
    match spacing.filter(|s| s[0] > 0.0 && s[1] > 0.0) {
        Some([row, column]) => format!("{:.1} mm", (dx * column).hypot(dy * row)),
        None => format!("{:.0} px", dx.hypot(dy)),
    }
}

/// Checks `shapes` against the image and decides the annotation items, one per layer used, in
/// the order of [`Layer::ALL`]. An arrow is its shaft then its head as one polyline (tail, tip,
/// wing, tip, wing), so any viewer draws the head; a length carries its label as text.
pub fn plan(image: &ImageRef, shapes: &[Shape]) -> Result<Vec<Annotation>, GspsError> {
    if shapes.is_empty() {
        return Err(GspsError::Empty);
    }
    if shapes.len() > MAX_SHAPES {
        return Err(GspsError::TooMany);
    }
    let (w, h) = (image.columns as f32, image.rows as f32);
    let inside = |p: &Point| {
        p.iter().all(|v| v.is_finite()) && (0.0..=w).contains(&p[0]) && (0.0..=h).contains(&p[1])
    };
    let mut items: Vec<Annotation> = Layer::ALL
        .iter()
        .map(|&layer| Annotation {
            layer,
            graphics: Vec::new(),
            texts: Vec::new(),
        })
        .collect();
    for shape in shapes {
        let item = &mut items[Layer::ALL
            .iter()
            .position(|&l| l == Layer::of(shape))
            .unwrap_or(0)];
        match shape {
            Shape::Arrow { from, to } => {
                if !inside(from) || !inside(to) {
                    return Err(GspsError::Outside);
                }
                let [left, right] = arrowhead(*from, *to);
                item.graphics.push(Graphic {
                    kind: GraphicType::Polyline,
                    points: vec![*from, *to, left, *to, right],
                });
            }
            Shape::Length { from, to, .. } => {
                if !inside(from) || !inside(to) {
                    return Err(GspsError::Outside);
                }
                item.graphics.push(Graphic {
                    kind: GraphicType::Polyline,
                    points: vec![*from, *to],
                });
                item.texts.push(Text {
                    anchor: *to,
                    value: length_label(*from, *to, image.spacing),
                });
            }
            Shape::Ellipse { center, radius } => {
                let [cx, cy] = *center;
                let [rx, ry] = *radius;
                let ends = [[cx - rx, cy], [cx + rx, cy], [cx, cy - ry], [cx, cy + ry]];
                if !(rx > 0.0 && ry > 0.0 && ends.iter().all(inside)) {
                    return Err(GspsError::Outside);
                }
                // ELLIPSE: the major axis's two ends, then the minor axis's.
                let (major, minor) = if rx >= ry {
                    (&ends[..2], &ends[2..])
                } else {
                    (&ends[2..], &ends[..2])
                };
                item.graphics.push(Graphic {
                    kind: GraphicType::Ellipse,
                    points: [major, minor].concat(),
                });
            }
            Shape::Text { at, text } => {
                let chars = text.trim().chars().count();
                if chars == 0 || chars > MAX_TEXT || text.contains('\\') {
                    return Err(GspsError::BadText);
                }
                if !inside(at) {
                    return Err(GspsError::Outside);
                }
                item.texts.push(Text {
                    anchor: *at,
                    value: text.trim().to_owned(),
                });
            }
        }
    }
    items.retain(|a| !a.graphics.is_empty() || !a.texts.is_empty());
    Ok(items)
}

/// Reads the shapes back from a presentation state's annotation items (see [`plan`]); items on
/// layers renkei does not write are read by their graphic type (a polyline as a length, an
/// ellipse or circle as an ellipse).
pub fn shapes_of(items: &[Annotation]) -> Vec<Shape> {
    let mut shapes = Vec::new();
    for item in items {
        // A length's label is the text of the same place in its layer.
        let mut labels = item.texts.iter().map(|t| t.value.clone());
        for g in &item.graphics {
            let p = &g.points;
            match (g.kind, item.layer) {
                (GraphicType::Polyline, Layer::Arrows) if p.len() >= 2 => {
                    shapes.push(Shape::Arrow {
                        from: p[0],
                        to: p[1],
                    })
                }
                (GraphicType::Polyline, _) if p.len() >= 2 => shapes.push(Shape::Length {
                    from: p[0],
                    to: p[1],
                    label: if item.layer == Layer::Lengths {
                        labels.next()
                    } else {
                        None
                    },
                }),
                (GraphicType::Ellipse, _) if p.len() == 4 => {
                    let center = [(p[0][0] + p[1][0]) / 2.0, (p[0][1] + p[1][1]) / 2.0];
                    let half = |a: Point, b: Point| (a[0] - b[0]).hypot(a[1] - b[1]) / 2.0;
                    let (major, minor) = (half(p[0], p[1]), half(p[2], p[3]));
                    // Axis-aligned: which axis is horizontal decides which radius is x.
                    let horizontal = (p[0][1] - p[1][1]).abs() <= (p[0][0] - p[1][0]).abs();
                    let radius = if horizontal {
                        [major, minor]
                    } else {
                        [minor, major]
                    };
                    shapes.push(Shape::Ellipse { center, radius });
                }
                _ => {}
            }
        }
        if item.layer == Layer::Texts {
            for t in &item.texts {
                shapes.push(Shape::Text {
                    at: t.anchor,
                    text: t.value.clone(),
                });
            }
        }
    }
    shapes
}

/// What the presentation state is, apart from its annotations.
#[derive(Debug, Clone)]
pub struct Identity {
    pub sop_uid: String,
    pub series_uid: String,
    /// Content Label (0070,0080), a CS.
    pub label: String,
    /// Presentation Creation Date and Time, `YYYYMMDD` and `HHMMSS`.
    pub created: (String, String),
}

/// A new UID under `2.25` (128 random bits), for a presentation state and its series.
pub fn new_uid() -> String {
    let mut bytes = [0u8; 16];
    // getrandom fails only without an entropy source, where nothing of renkei runs.
    let _ = getrandom::fill(&mut bytes);
    format!("2.25.{}", u128::from_be_bytes(bytes))
}

/// Patient and study attributes copied from the de-identified image: the Patient and General
/// Study modules with the de-identification markers, nothing else.
const COPIED: [(u16, u16); 16] = [
    (0x0008, 0x0020), // Study Date
    (0x0008, 0x0030), // Study Time
    (0x0008, 0x0050), // Accession Number
    (0x0008, 0x0090), // Referring Physician's Name
    (0x0008, 0x1030), // Study Description
    (0x0010, 0x0010), // Patient's Name
    (0x0010, 0x0020), // Patient ID
    (0x0010, 0x0030), // Patient's Birth Date
    (0x0010, 0x0040), // Patient's Sex
    (0x0010, 0x1010), // Patient's Age
    (0x0012, 0x0062), // Patient Identity Removed
    (0x0012, 0x0063), // De-identification Method
    (0x0012, 0x0064), // De-identification Method Code Sequence
    (0x0020, 0x000D), // Study Instance UID
    (0x0020, 0x0010), // Study ID
    (0x0018, 0x0015), // Body Part Examined
];

fn text(tag: Tag, vr: VR, value: impl Into<String>) -> DataElement<InMemDicomObject> {
    DataElement::new(tag, vr, PrimitiveValue::from(value.into()))
}

fn floats(tag: Tag, values: impl IntoIterator<Item = f32>) -> DataElement<InMemDicomObject> {
    DataElement::new(
        tag,
        VR::FL,
        PrimitiveValue::F32(values.into_iter().collect()),
    )
}

fn ushort(tag: Tag, value: u16) -> DataElement<InMemDicomObject> {
    DataElement::new(tag, VR::US, PrimitiveValue::from(value))
}

fn sequence(tag: Tag, items: Vec<InMemDicomObject>) -> DataElement<InMemDicomObject> {
    DataElement::new(tag, VR::SQ, DataSetSequence::new(items, Length::UNDEFINED))
}

fn referenced_image(image: &ImageRef) -> DataElement<InMemDicomObject> {
    let mut item = vec![
        text(Tag(0x0008, 0x1150), VR::UI, &image.sop_class),
        text(Tag(0x0008, 0x1155), VR::UI, &image.sop_uid),
    ];
    if let Some(frame) = image.frame {
        item.push(text(Tag(0x0008, 0x1160), VR::IS, frame.to_string()));
    }
    sequence(
        Tag(0x0008, 0x1140),
        vec![InMemDicomObject::from_element_iter(item)],
    )
}

fn graphic_item(g: &Graphic) -> InMemDicomObject {
    InMemDicomObject::from_element_iter([
        text(Tag(0x0070, 0x0005), VR::CS, "PIXEL"),
        ushort(Tag(0x0070, 0x0020), 2),
        ushort(Tag(0x0070, 0x0021), g.points.len() as u16),
        floats(Tag(0x0070, 0x0022), g.points.iter().flatten().copied()),
        text(Tag(0x0070, 0x0023), VR::CS, g.kind.name()),
        text(Tag(0x0070, 0x0024), VR::CS, "N"),
    ])
}

fn text_item(t: &Text) -> InMemDicomObject {
    InMemDicomObject::from_element_iter([
        text(Tag(0x0070, 0x0004), VR::CS, "PIXEL"),
        text(Tag(0x0070, 0x0006), VR::ST, &t.value),
        floats(Tag(0x0070, 0x0014), t.anchor),
        text(Tag(0x0070, 0x0015), VR::CS, "N"),
    ])
}

/// The presentation state as a Part 10 file (Explicit VR Little Endian, UTF-8 text): `items`
/// (from [`plan`]) on `image`, with `source`'s patient and study attributes.
pub fn write(
    source: &InMemDicomObject,
    image: &ImageRef,
    items: &[Annotation],
    identity: &Identity,
) -> Result<Vec<u8>, GspsError> {
    let mut obj = InMemDicomObject::new_empty();
    for (group, element) in COPIED {
        if let Some(e) = source.get(Tag(group, element)) {
            obj.put(e.clone());
        }
    }
    let (date, time) = &identity.created;
    let annotations = items
        .iter()
        .map(|a| {
            let mut item = vec![
                referenced_image(image),
                text(Tag(0x0070, 0x0002), VR::CS, a.layer.name()),
            ];
            if !a.texts.is_empty() {
                item.push(sequence(
                    Tag(0x0070, 0x0008),
                    a.texts.iter().map(text_item).collect(),
                ));
            }
            if !a.graphics.is_empty() {
                item.push(sequence(
                    Tag(0x0070, 0x0009),
                    a.graphics.iter().map(graphic_item).collect(),
                ));
            }
            InMemDicomObject::from_element_iter(item)
        })
        .collect();
    let layers = items
        .iter()
        .enumerate()
        .map(|(order, a)| {
            InMemDicomObject::from_element_iter([
                text(Tag(0x0070, 0x0002), VR::CS, a.layer.name()),
                text(Tag(0x0070, 0x0062), VR::IS, (order + 1).to_string()),
                ushort(Tag(0x0070, 0x0066), 0xFFFF),
                text(Tag(0x0070, 0x0068), VR::LO, a.layer.description()),
            ])
        })
        .collect();
    let displayed_area = InMemDicomObject::from_element_iter([
        referenced_image(image),
        DataElement::new(
            Tag(0x0070, 0x0052),
            VR::SL,
            PrimitiveValue::I32([1, 1].into()),
        ),
        DataElement::new(
            Tag(0x0070, 0x0053),
            VR::SL,
            PrimitiveValue::I32([image.columns as i32, image.rows as i32].into()),
        ),
        text(Tag(0x0070, 0x0100), VR::CS, "SCALE TO FIT"),
        text(Tag(0x0070, 0x0102), VR::IS, "1\\1"),
    ]);
    let series_item = InMemDicomObject::from_element_iter([
        text(
            Tag(0x0020, 0x000E),
            VR::UI,
            series_of(source).unwrap_or_default(),
        ),
        referenced_image(image),
    ]);
    for element in [
        text(Tag(0x0008, 0x0005), VR::CS, "ISO_IR 192"),
        text(Tag(0x0008, 0x0016), VR::UI, GSPS_SOP_CLASS),
        text(Tag(0x0008, 0x0018), VR::UI, &identity.sop_uid),
        text(Tag(0x0008, 0x0060), VR::CS, "PR"),
        text(Tag(0x0008, 0x0070), VR::LO, "renkei"),
        text(Tag(0x0008, 0x103E), VR::LO, "Annotations"),
        sequence(Tag(0x0008, 0x1115), vec![series_item]),
        text(Tag(0x0020, 0x000E), VR::UI, &identity.series_uid),
        text(Tag(0x0020, 0x0011), VR::IS, "9901"),
        text(Tag(0x0020, 0x0013), VR::IS, "1"),
        text(Tag(0x0070, 0x0080), VR::CS, &identity.label),
        text(Tag(0x0070, 0x0081), VR::LO, "Annotations drawn in renkei"),
        text(Tag(0x0070, 0x0082), VR::DA, date),
        text(Tag(0x0070, 0x0083), VR::TM, time),
        // Type 2, left empty: the audit log names who drew it; no staff name travels in DICOM.
        text(Tag(0x0070, 0x0084), VR::PN, ""),
        sequence(Tag(0x0070, 0x0001), annotations),
        sequence(Tag(0x0070, 0x005A), vec![displayed_area]),
        sequence(Tag(0x0070, 0x0060), layers),
        text(
            Tag(0x2050, 0x0020),
            VR::CS,
            if image.inverted {
                "INVERSE"
            } else {
                "IDENTITY"
            },
        ),
    ] {
        obj.put(element);
    }
    let file = obj
        .with_meta(FileMetaTableBuilder::new().transfer_syntax(EXPLICIT_LE))
        .map_err(|_| GspsError::Unwritable)?;
    let mut bytes = Vec::with_capacity(4096);
    file.write_all(&mut bytes)
        .map_err(|_| GspsError::Unwritable)?;
    Ok(bytes)
}

fn series_of(source: &InMemDicomObject) -> Option<String> {
    text_value(source, Tag(0x0020, 0x000E))
}

fn items_of(obj: &InMemDicomObject, tag: Tag) -> &[InMemDicomObject] {
    match obj.get(tag).map(|e| e.value()) {
        Some(Value::Sequence(s)) => s.items(),
        _ => &[],
    }
}

fn float_values(obj: &InMemDicomObject, tag: Tag) -> Vec<f32> {
    obj.get(tag)
        .and_then(|e| e.value().to_multi_float32().ok())
        .unwrap_or_default()
}

fn point_of(values: &[f32]) -> Option<Point> {
    (values.len() >= 2).then(|| [values[0], values[1]])
}

/// The annotations of a presentation state by referenced image: (SOP Instance UID, frame or
/// `None`, items). Items whose layer renkei does not write are read as [`Layer::Lengths`] (a
/// polyline) or [`Layer::Ellipses`].
pub fn read(obj: &InMemDicomObject) -> Vec<(String, Option<u32>, Annotation)> {
    let mut out = Vec::new();
    for item in items_of(obj, Tag(0x0070, 0x0001)) {
        let layer_name = text_value(item, Tag(0x0070, 0x0002)).unwrap_or_default();
        let layer = Layer::named(&layer_name).unwrap_or(Layer::Lengths);
        let graphics = items_of(item, Tag(0x0070, 0x0009))
            .iter()
            .filter_map(|g| {
                let kind = match text_value(g, Tag(0x0070, 0x0023)).as_deref() {
                    Some("POLYLINE") => GraphicType::Polyline,
                    Some("ELLIPSE") => GraphicType::Ellipse,
                    _ => return None,
                };
                let points = float_values(g, Tag(0x0070, 0x0022))
                    .chunks_exact(2)
                    .map(|c| [c[0], c[1]])
                    .collect();
                Some(Graphic { kind, points })
            })
            .collect();
        let texts = items_of(item, Tag(0x0070, 0x0008))
            .iter()
            .filter_map(|t| {
                let anchor = point_of(&float_values(t, Tag(0x0070, 0x0014)))?;
                let value = t
                    .get(Tag(0x0070, 0x0006))?
                    .value()
                    .to_str()
                    .ok()?
                    .trim_end_matches([' ', '\0'])
                    .to_owned();
                Some(Text { anchor, value })
            })
            .collect();
        let annotation = Annotation {
            layer,
            graphics,
            texts,
        };
        for reference in items_of(item, Tag(0x0008, 0x1140)) {
            let Some(sop) = text_value(reference, Tag(0x0008, 0x1155)) else {
                continue;
            };
            let frame = text_value(reference, Tag(0x0008, 0x1160)).and_then(|f| f.parse().ok());
            out.push((sop, frame, annotation.clone()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use dicom_object::OpenFileOptions;

    fn image() -> ImageRef {
        ImageRef {
            sop_class: "1.2.840.10008.5.1.4.1.1.2".into(),
            sop_uid: "2.25.11".into(),
            frame: Some(3),
            rows: 512,
            columns: 256,
            spacing: Some([0.5, 0.25]),
            inverted: false,
        }
    }

    fn every_shape() -> Vec<Shape> {
        vec![
            Shape::Arrow {
                from: [10.0, 10.0],
                to: [100.0, 50.0],
            },
            Shape::Length {
                from: [0.0, 0.0],
                to: [40.0, 0.0],
                label: None,
            },
            Shape::Ellipse {
                center: [128.0, 256.0],
                radius: [20.0, 40.0],
            },
            Shape::Text {
                at: [5.0, 500.0],
                text: "右上葉 nodule".into(),
            },
        ]
    }

    fn source() -> InMemDicomObject {
        InMemDicomObject::from_element_iter([
            text(Tag(0x0010, 0x0010), VR::PN, "ANONYMOUS"),
            text(Tag(0x0010, 0x0020), VR::LO, "3456"),
            text(Tag(0x0012, 0x0062), VR::CS, "YES"),
            text(Tag(0x0020, 0x000D), VR::UI, "2.25.1"),
            text(Tag(0x0020, 0x000E), VR::UI, "2.25.2"),
            text(Tag(0x0008, 0x0080), VR::LO, "not copied"),
        ])
    }

    #[test]
    fn shapes_written_are_the_shapes_read_back() {
        let items = plan(&image(), &every_shape()).unwrap();
        let identity = Identity {
            sop_uid: new_uid(),
            series_uid: new_uid(),
            label: "ANNOTATIONS".into(),
            created: ("20261207".into(), "120000".into()),
        };
        let bytes = write(&source(), &image(), &items, &identity).unwrap();
        let obj = OpenFileOptions::new().from_reader(&bytes[128..]).unwrap();
        assert_eq!(
            text_value(&obj, Tag(0x0008, 0x0016)).as_deref(),
            Some(GSPS_SOP_CLASS)
        );
        assert_eq!(
            text_value(&obj, Tag(0x0020, 0x000D)).as_deref(),
            Some("2.25.1")
        );
        assert_eq!(
            text_value(&obj, Tag(0x0010, 0x0020)).as_deref(),
            Some("3456")
        );
        assert_eq!(
            text_value(&obj, Tag(0x0008, 0x0080)),
            None,
            "only the patient and study modules"
        );
        let read = read(&obj);
        assert!(
            read.iter()
                .all(|(sop, frame, _)| sop == "2.25.11" && *frame == Some(3))
        );
        let annotations: Vec<Annotation> = read.into_iter().map(|(_, _, a)| a).collect();
        // The same shapes, the length with its label in mm from the column spacing.
        let mut expected = every_shape();
        expected[1] = Shape::Length {
            from: [0.0, 0.0],
            to: [40.0, 0.0],
            label: Some("10.0 mm".into()),
        };
        assert_eq!(shapes_of(&annotations), expected);
    }

    #[test]
    fn shapes_off_the_image_or_empty_text_are_refused() {
        let cases = [
            (vec![], GspsError::Empty),
            (
                vec![Shape::Arrow {
                    from: [0.0, 0.0],
                    to: [257.0, 1.0],
                }],
                GspsError::Outside,
            ),
            (
                vec![Shape::Ellipse {
                    center: [10.0, 10.0],
                    radius: [20.0, 5.0],
                }],
                GspsError::Outside,
            ),
            (
                vec![Shape::Length {
                    from: [f32::NAN, 0.0],
                    to: [1.0, 1.0],
                    label: None,
                }],
                GspsError::Outside,
            ),
            (
                vec![Shape::Text {
                    at: [1.0, 1.0],
                    text: "  ".into(),
                }],
                GspsError::BadText,
            ),
            (
                vec![Shape::Text {
                    at: [1.0, 1.0],
                    text: "a\\b".into(),
                }],
                GspsError::BadText,
            ),
            (
                vec![
                    Shape::Length {
                        from: [1.0, 1.0],
                        to: [2.0, 2.0],
                        label: None
                    };
                    MAX_SHAPES + 1
                ],
                GspsError::TooMany,
            ),
        ];
        for (shapes, error) in cases {
            assert_eq!(plan(&image(), &shapes), Err(error));
        }
    }

    #[test]
    fn the_arrowhead_points_back_along_the_shaft() {
        let [a, b] = arrowhead([0.0, 0.0], [100.0, 0.0]);
        assert!(a[0] < 100.0 && b[0] < 100.0, "{a:?} {b:?}");
        assert!((a[1] + b[1]).abs() < 1e-3, "symmetric about the shaft");
    }
}
