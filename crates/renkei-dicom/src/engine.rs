//! The engine: applies Table E.1-1 and the organization's rules to a data set, recursively.

use dicom_core::header::Header;
use dicom_core::value::{C, DataSetSequence, PrimitiveValue, Value};
use dicom_core::{DataElement, Length, Tag, VR};
use dicom_object::{FileDicomObject, InMemDicomObject};

use crate::burned_in::{burned_in_risk, declares_burned_in};
use crate::charset::{declare_utf8, has_non_ascii_text, is_charset_text, redecode_code_extensions};
use crate::context::{DateMode, DeidContext};
use crate::dates::{checked_tm, date_shift_days, shift_da, shift_dt};
use crate::error::DeidError;
use crate::patient_id::patient_id_tail;
use crate::private::{SAFE_PRIVATE_ATTRIBUTES, is_private, is_safe_private};
use crate::profile::{
    Action, BasicAction, ConfidentialityProfile, ProfileOption, ProfileRow, profile,
};
use crate::report::DeidReport;
use crate::scrub::{Identifiers, scrub_long_numbers};
use crate::uid::remap_uid;

/// Deepest sequence nesting accepted; real objects stay far below.
pub const MAX_DEPTH: usize = 64;

/// What replaces the patient's name: one plain value, no component groups.
pub const ANONYMOUS_NAME: &str = "ANONYMOUS";
/// Dummy text for D on text attributes.
pub const DUMMY_TEXT: &str = "ANONYMIZED";

const PATIENT_NAME: Tag = Tag(0x0010, 0x0010);
const PATIENT_ID: Tag = Tag(0x0010, 0x0020);
const SOP_INSTANCE_UID: Tag = Tag(0x0008, 0x0018);
const STUDY_INSTANCE_UID: Tag = Tag(0x0020, 0x000D);
const SERIES_INSTANCE_UID: Tag = Tag(0x0020, 0x000E);
const MODALITY: Tag = Tag(0x0008, 0x0060);
const BODY_PART_EXAMINED: Tag = Tag(0x0018, 0x0015);
const STUDY_DATE: Tag = Tag(0x0008, 0x0020);
const NUMBER_OF_FRAMES: Tag = Tag(0x0028, 0x0008);
const PIXEL_DATA: Tag = Tag(0x7FE0, 0x0010);
const SPECIFIC_CHARACTER_SET: Tag = Tag(0x0008, 0x0005);
const PATIENT_IDENTITY_REMOVED: Tag = Tag(0x0012, 0x0062);
const DEIDENTIFICATION_METHOD: Tag = Tag(0x0012, 0x0063);
const DEIDENTIFICATION_METHOD_CODE_SEQUENCE: Tag = Tag(0x0012, 0x0064);
const LONGITUDINAL_TEMPORAL_INFORMATION_MODIFIED: Tag = Tag(0x0028, 0x0303);
const CODE_VALUE: Tag = Tag(0x0008, 0x0100);
const CODING_SCHEME_DESIGNATOR: Tag = Tag(0x0008, 0x0102);
const CODE_MEANING: Tag = Tag(0x0008, 0x0104);

/// Something that holds a data set to de-identify: a bare data set or a file with its meta.
pub trait Deidentify {
    /// The data set.
    fn dataset_mut(&mut self) -> &mut InMemDicomObject;
    /// Called once the data set is done, with its new SOP Instance UID.
    fn finish(&mut self, _new_sop_instance_uid: &str) {}
}

impl Deidentify for InMemDicomObject {
    fn dataset_mut(&mut self) -> &mut InMemDicomObject {
        self
    }
}

impl Deidentify for FileDicomObject<InMemDicomObject> {
    fn dataset_mut(&mut self) -> &mut InMemDicomObject {
        self
    }

    /// Media Storage SOP Instance UID follows the new SOP Instance UID; the meta's private
    /// information goes like every other private attribute.
    fn finish(&mut self, new_sop_instance_uid: &str) {
        let meta = self.meta_mut();
        meta.media_storage_sop_instance_uid = new_sop_instance_uid.to_string();
        meta.private_information_creator_uid = None;
        meta.private_information = None;
        meta.update_information_group_length();
    }
}

/// De-identify `obj` in place and report what remains.
///
/// On error the object may be partly changed and must be discarded; the error never carries
/// a value from the object. Pixel data is never modified.
pub fn deidentify<T: Deidentify + ?Sized>(
    obj: &mut T,
    ctx: &DeidContext,
) -> Result<DeidReport, DeidError> {
    let profile = profile()?;
    let dataset = obj.dataset_mut();
    let report = deidentify_dataset(dataset, ctx, profile)?;
    obj.finish(&report.sop_instance_uid);
    Ok(report)
}

fn deidentify_dataset(
    obj: &mut InMemDicomObject,
    ctx: &DeidContext,
    profile: &'static ConfidentialityProfile,
) -> Result<DeidReport, DeidError> {
    if text_value(obj, SOP_INSTANCE_UID).is_none() {
        return Err(DeidError::missing(SOP_INSTANCE_UID, "SOP Instance UID"));
    }
    redecode_code_extensions(obj, &[]);
    let original_patient_id = text_value(obj, PATIENT_ID).unwrap_or_default();
    let mut walk = Walk {
        ctx,
        profile,
        identifiers: Identifiers::collect(obj),
        shift_days: match ctx.retain_dates {
            DateMode::ShiftPerPatient => date_shift_days(&ctx.org_secret, &original_patient_id),
            DateMode::Keep | DateMode::Remove => 0,
        },
        patient_id_tail: patient_id_tail(&original_patient_id, ctx.patient_id_digits),
        removed: 0,
        private_removed: 0,
        replaced: 0,
    };
    walk.dataset(obj, 0, Mode::Normal)?;
    mark_deidentified(obj, ctx, &profile.edition);
    if has_non_ascii_text(obj) {
        declare_utf8(obj, true);
    }

    let mut report = describe(obj, walk.patient_id_tail, profile.edition.as_str())?;
    report.attributes_removed = walk.removed;
    report.private_attributes_removed = walk.private_removed;
    report.attributes_replaced = walk.replaced;
    Ok(report)
}

/// The facts of a de-identified data set, read from it (the counts of changes are zero).
pub(crate) fn describe(
    obj: &InMemDicomObject,
    patient_id_tail: String,
    profile_edition: &'static str,
) -> Result<DeidReport, DeidError> {
    let sop_instance_uid = text_value(obj, SOP_INSTANCE_UID)
        .ok_or_else(|| DeidError::missing(SOP_INSTANCE_UID, "SOP Instance UID"))?;
    let number_of_frames = match text_value(obj, NUMBER_OF_FRAMES) {
        Some(n) => n.parse().ok(),
        None => Some(u32::from(obj.get(PIXEL_DATA).is_some())),
    };
    Ok(DeidReport {
        study_instance_uid: text_value(obj, STUDY_INSTANCE_UID),
        series_instance_uid: text_value(obj, SERIES_INSTANCE_UID),
        sop_instance_uid,
        patient_id_tail,
        modality: text_value(obj, MODALITY),
        body_part: text_value(obj, BODY_PART_EXAMINED),
        study_date: text_value(obj, STUDY_DATE),
        number_of_frames,
        burned_in_risk: burned_in_risk(obj),
        burned_in_declared: declares_burned_in(obj),
        attributes_removed: 0,
        private_attributes_removed: 0,
        attributes_replaced: 0,
        profile_edition,
    })
}

/// The first value of a text attribute, trimmed; `None` when absent or empty.
pub(crate) fn text_value(obj: &InMemDicomObject, tag: Tag) -> Option<String> {
    let value = obj.get(tag)?.value().to_str().ok()?;
    let trimmed = value.trim_matches([' ', '\0']);
    let first = trimmed.split('\\').next().unwrap_or("").trim();
    (!first.is_empty()).then(|| first.to_string())
}

/// How unlisted attributes inside a sequence are treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Unlisted attributes are kept (with direct identifiers scrubbed from their text).
    Normal,
    /// Inside a sequence the profile replaces with a dummy (D on SQ): the items keep their
    /// shape, but every free-text value is replaced by a dummy and dates follow the date rule.
    Dummy,
}

/// What happens to one element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Keep,
    Remove,
    Empty,
    Dummy,
    Uid,
    Clean,
    ShiftDate,
    Recurse(Mode),
    PatientName,
    PatientId,
    DropPrivate,
    DropGroupLength,
}

pub(crate) struct Walk<'a> {
    ctx: &'a DeidContext,
    profile: &'static ConfidentialityProfile,
    identifiers: Identifiers,
    shift_days: i32,
    patient_id_tail: String,
    removed: u32,
    private_removed: u32,
    replaced: u32,
}

impl<'a> Walk<'a> {
    /// A walk that only decides (verify mode, [`crate::leftover`]): nothing is collected from
    /// or applied to an object.
    pub(crate) fn deciding(ctx: &'a DeidContext, profile: &'static ConfidentialityProfile) -> Self {
        Walk {
            ctx,
            profile,
            identifiers: Identifiers::default(),
            shift_days: 0,
            patient_id_tail: String::new(),
            removed: 0,
            private_removed: 0,
            replaced: 0,
        }
    }

    fn dataset(
        &mut self,
        obj: &mut InMemDicomObject,
        depth: usize,
        mode: Mode,
    ) -> Result<(), DeidError> {
        if depth > MAX_DEPTH {
            return Err(DeidError::TooDeep { limit: MAX_DEPTH });
        }
        let headers: Vec<(Tag, VR)> = obj.iter().map(|e| (e.tag(), e.vr())).collect();
        for (tag, vr) in headers {
            let op = self.decide(obj, tag, vr, mode);
            self.apply(obj, tag, vr, op, depth)?;
        }
        Ok(())
    }

    /// The Patient ID digits the organization keeps.
    pub(crate) fn patient_id_digits(&self) -> u8 {
        self.ctx.patient_id_digits
    }

    pub(crate) fn decide(&self, obj: &InMemDicomObject, tag: Tag, vr: VR, mode: Mode) -> Op {
        if is_private(tag) {
            let creator = private_creator(obj, tag);
            let keep = if tag.element() <= 0x00FF && tag.element() >= 0x0010 {
                // A private creator stays only when something of its block may stay.
                creator.as_deref().is_some_and(|c| {
                    SAFE_PRIVATE_ATTRIBUTES
                        .iter()
                        .any(|s| s.creator == c.trim())
                })
            } else {
                is_safe_private(tag, creator.as_deref())
            };
            return if keep { Op::Keep } else { Op::DropPrivate };
        }
        if tag.element() == 0x0000 {
            return Op::DropGroupLength;
        }
        match tag {
            PATIENT_NAME => return Op::PatientName,
            PATIENT_ID => return Op::PatientId,
            SPECIFIC_CHARACTER_SET => return Op::Keep,
            _ => {}
        }
        let op = match self.profile.lookup(tag) {
            Some(row) => self.row_op(row, vr, mode),
            None => self.unlisted_op(vr, mode),
        };
        // Unknown-VR values cannot be rewritten as their real VR: empty them instead.
        match (vr, op) {
            (VR::UN, Op::Dummy | Op::Uid | Op::Clean | Op::ShiftDate | Op::Empty) => Op::Empty,
            _ => op,
        }
    }

    fn row_op(&self, row: &ProfileRow, vr: VR, mode: Mode) -> Op {
        let ctx = self.ctx;
        if ctx.retain_patient_characteristics
            && let Some(action) = row.option(ProfileOption::RetainPatientCharacteristics)
        {
            return self.action_op(action, vr, mode);
        }
        match ctx.retain_dates {
            DateMode::Keep => {
                if let Some(action) = row.option(ProfileOption::RetainLongitudinalFullDates) {
                    return self.action_op(action, vr, mode);
                }
            }
            DateMode::ShiftPerPatient => {
                // Only values that have a date can be shifted; others fall back to the profile.
                if matches!(vr, VR::DA | VR::DT | VR::TM)
                    && let Some(action) = row.option(ProfileOption::RetainLongitudinalModifiedDates)
                {
                    return self.action_op(action, vr, mode);
                }
            }
            DateMode::Remove => {}
        }
        if ctx.clean_descriptors
            && let Some(action) = row.option(ProfileOption::CleanDescriptors)
        {
            return self.action_op(action, vr, mode);
        }
        // Without the IOD at hand the engine takes, of the choices a combination allows, the
        // one that is conformant whatever the attribute's type: D where D is allowed, else Z.
        match row.basic {
            BasicAction::One(action) => self.action_op(action, vr, mode),
            BasicAction::RemoveOrZero => self.action_op(Action::Zero, vr, mode),
            BasicAction::RemoveOrDummy
            | BasicAction::ZeroOrDummy
            | BasicAction::RemoveOrZeroOrDummy => self.action_op(Action::Dummy, vr, mode),
            // U*: keep the sequence, the UIDs inside are replaced by their own rows.
            BasicAction::RemoveOrZeroOrUidsInside => self.action_op(Action::Uid, vr, mode),
        }
    }

    fn action_op(&self, action: Action, vr: VR, mode: Mode) -> Op {
        match (action, vr) {
            (Action::Remove, _) => Op::Remove,
            (Action::Zero, _) => Op::Empty,
            (Action::Dummy, VR::SQ) => Op::Recurse(Mode::Dummy),
            (Action::Dummy, _) => Op::Dummy,
            (Action::Keep | Action::Clean | Action::Uid, VR::SQ) => Op::Recurse(mode),
            (Action::Keep, _) => Op::Keep,
            (Action::Clean, VR::DA | VR::DT | VR::TM) => Op::ShiftDate,
            (Action::Clean, _) => Op::Clean,
            (Action::Uid, _) => Op::Uid,
        }
    }

    fn unlisted_op(&self, vr: VR, mode: Mode) -> Op {
        match vr {
            VR::SQ => Op::Recurse(mode),
            // Every person name is listed by the profile; one that is not (a newer attribute,
            // a misused tag) is still a name.
            VR::PN => Op::Dummy,
            VR::SH | VR::LO | VR::ST | VR::LT | VR::UC | VR::UT | VR::AE | VR::UR
                if mode == Mode::Dummy =>
            {
                Op::Dummy
            }
            VR::DA | VR::DT | VR::TM if mode == Mode::Dummy => match self.ctx.retain_dates {
                DateMode::Keep => Op::Keep,
                DateMode::ShiftPerPatient => Op::ShiftDate,
                DateMode::Remove => Op::Dummy,
            },
            _ => Op::Keep,
        }
    }

    fn apply(
        &mut self,
        obj: &mut InMemDicomObject,
        tag: Tag,
        vr: VR,
        op: Op,
        depth: usize,
    ) -> Result<(), DeidError> {
        match op {
            Op::Keep | Op::Clean => {
                // Kept text loses the direct identifiers of this object; text being cleaned
                // (Clean Descriptors) also loses long numbers that no attribute names.
                if is_charset_text(vr) {
                    let values = strings(obj, tag)?;
                    let mut changed = false;
                    let cleaned: C<String> = values
                        .iter()
                        .map(|v| {
                            let mut text = self.identifiers.scrub(v);
                            if op == Op::Clean
                                && let Some(s) = scrub_long_numbers(text.as_deref().unwrap_or(v))
                            {
                                text = Some(s);
                            }
                            changed |= text.is_some();
                            text.unwrap_or_else(|| v.clone())
                        })
                        .collect();
                    if changed {
                        self.put_strs(obj, tag, vr, cleaned);
                    }
                }
            }
            Op::Remove => {
                obj.remove_element(tag);
                self.removed += 1;
            }
            Op::DropPrivate => {
                obj.remove_element(tag);
                self.removed += 1;
                self.private_removed += 1;
            }
            Op::DropGroupLength => {
                obj.remove_element(tag);
            }
            Op::Empty => {
                if !is_empty(obj, tag) {
                    obj.put(DataElement::empty(tag, vr));
                    self.replaced += 1;
                }
            }
            Op::Dummy => {
                let value = self.dummy_value(obj, tag, vr)?;
                obj.put(DataElement::new(tag, vr, value));
                self.replaced += 1;
            }
            Op::Uid => {
                let values = strings(obj, tag)?;
                if values
                    .iter()
                    .any(|v| !v.trim_matches([' ', '\0']).is_empty())
                {
                    let mapped: C<String> = values
                        .iter()
                        .map(|v| remap_uid(&self.ctx.org_secret, v))
                        .collect();
                    self.put_strs(obj, tag, vr, mapped);
                }
            }
            Op::ShiftDate => {
                let values = strings(obj, tag)?;
                let shifted: C<String> = values
                    .iter()
                    .map(|v| {
                        let result = match vr {
                            VR::DA => shift_da(v, self.shift_days),
                            VR::DT => shift_dt(v, self.shift_days),
                            _ => checked_tm(v),
                        };
                        // An unparsable date is emptied, never kept.
                        result.unwrap_or_default()
                    })
                    .collect();
                if shifted.iter().all(String::is_empty) {
                    if !is_empty(obj, tag) {
                        obj.put(DataElement::empty(tag, vr));
                        self.replaced += 1;
                    }
                } else if shifted.as_slice() != values.as_slice() {
                    self.put_strs(obj, tag, vr, shifted);
                }
            }
            Op::Recurse(mode) => {
                let Some(mut element) = obj.take(tag) else {
                    return Ok(());
                };
                // `items_mut` marks the length undefined whatever the value: sequences only.
                if element.items().is_some() {
                    if let Some(items) = element.items_mut() {
                        for item in items.iter_mut() {
                            self.dataset(item, depth + 1, mode)?;
                        }
                    }
                    obj.put(element);
                } else if element.value().primitive().is_some() {
                    // A sequence tag holding bytes (an unknown-VR sequence not parsed): its
                    // content cannot be reviewed, so it goes.
                    self.removed += 1;
                } else {
                    return Err(DeidError::malformed(tag, "expected a sequence"));
                }
            }
            Op::PatientName => {
                if vr != VR::PN && vr != VR::UN {
                    return Err(DeidError::malformed(
                        tag,
                        "Patient's Name is not a person name",
                    ));
                }
                obj.put(DataElement::new(tag, VR::PN, ANONYMOUS_NAME));
                self.replaced += 1;
            }
            Op::PatientId => {
                let tail = self.patient_id_tail.clone();
                obj.put(DataElement::new(tag, VR::LO, tail));
                self.replaced += 1;
            }
        }
        Ok(())
    }

    fn put_strs(&mut self, obj: &mut InMemDicomObject, tag: Tag, vr: VR, values: C<String>) {
        obj.put(DataElement::new(tag, vr, PrimitiveValue::Strs(values)));
        self.replaced += 1;
    }

    pub(crate) fn dummy_value(
        &self,
        obj: &InMemDicomObject,
        tag: Tag,
        vr: VR,
    ) -> Result<PrimitiveValue, DeidError> {
        Ok(match vr {
            VR::PN => ANONYMOUS_NAME.into(),
            VR::AE | VR::CS | VR::LO | VR::LT | VR::SH | VR::ST | VR::UC | VR::UT | VR::UR => {
                DUMMY_TEXT.into()
            }
            VR::AS => "000Y".into(),
            VR::DA => "19000101".into(),
            VR::DT => "19000101000000".into(),
            VR::TM => "000000".into(),
            VR::DS | VR::IS => "0".into(),
            VR::UI => {
                let values = strings(obj, tag)?;
                let first = values.first().map_or("", String::as_str);
                remap_uid(&self.ctx.org_secret, first).into()
            }
            VR::AT => PrimitiveValue::Tags([Tag(0, 0)].into_iter().collect()),
            VR::FL | VR::OF => PrimitiveValue::F32([0.0].into_iter().collect()),
            VR::FD | VR::OD => PrimitiveValue::F64([0.0].into_iter().collect()),
            VR::SS => PrimitiveValue::I16([0].into_iter().collect()),
            VR::US | VR::OW => PrimitiveValue::U16([0].into_iter().collect()),
            VR::SL => PrimitiveValue::I32([0].into_iter().collect()),
            VR::UL | VR::OL => PrimitiveValue::U32([0].into_iter().collect()),
            VR::SV => PrimitiveValue::I64([0].into_iter().collect()),
            VR::UV | VR::OV => PrimitiveValue::U64([0].into_iter().collect()),
            VR::OB | VR::UN | VR::SQ => PrimitiveValue::U8([0, 0].into_iter().collect()),
        })
    }
}

/// The private creator of the block `tag` belongs to.
fn private_creator(obj: &InMemDicomObject, tag: Tag) -> Option<String> {
    let block = tag.element() >> 8;
    if block < 0x10 {
        return None;
    }
    let creator = obj.get(Tag(tag.group(), block))?;
    creator.value().to_str().ok().map(|s| s.into_owned())
}

/// The values of a primitive element as strings; an error when it is a sequence or fragments.
pub(crate) fn strings(obj: &InMemDicomObject, tag: Tag) -> Result<Vec<String>, DeidError> {
    let Some(element) = obj.get(tag) else {
        return Ok(Vec::new());
    };
    match element.value() {
        Value::Primitive(PrimitiveValue::Empty) => Ok(Vec::new()),
        Value::Primitive(p) => Ok(p.to_multi_str().to_vec()),
        _ => Err(DeidError::malformed(tag, "expected a primitive value")),
    }
}

pub(crate) fn is_empty(obj: &InMemDicomObject, tag: Tag) -> bool {
    obj.get(tag).is_none_or(|e| match e.value() {
        Value::Primitive(p) => p.calculate_byte_len() == 0,
        Value::Sequence(s) => s.items().is_empty(),
        Value::PixelSequence(_) => false,
    })
}

/// The PS3.15 CID 7050 code of each option applied.
fn method_codes(ctx: &DeidContext) -> Vec<(&'static str, &'static str)> {
    let mut codes = vec![("113100", "Basic Application Confidentiality Profile")];
    if ctx.clean_descriptors {
        codes.push(("113105", "Clean Descriptors Option"));
    }
    match ctx.retain_dates {
        DateMode::Keep => codes.push((
            "113106",
            "Retain Longitudinal Temporal Information Full Dates Option",
        )),
        DateMode::ShiftPerPatient => codes.push((
            "113107",
            "Retain Longitudinal Temporal Information Modified Dates Option",
        )),
        DateMode::Remove => {}
    }
    if ctx.retain_patient_characteristics {
        codes.push(("113108", "Retain Patient Characteristics Option"));
    }
    codes
}

/// Patient Identity Removed, De-identification Method (one LO value per fact, each under 64
/// characters), its code sequence, and Longitudinal Temporal Information Modified.
fn mark_deidentified(obj: &mut InMemDicomObject, ctx: &DeidContext, edition: &str) {
    let codes = method_codes(ctx);
    let mut method: Vec<String> = vec![format!("{edition} Table E.1-1")];
    method.extend(codes.iter().map(|(_, meaning)| meaning.to_string()));
    method.push("Private attributes removed".into());
    method.push("UIDs replaced by keyed hash under 2.25".into());
    if ctx.retain_dates == DateMode::ShiftPerPatient {
        method.push("Dates shifted by a per-patient whole-day offset".into());
    }
    method.push(format!(
        "Patient ID reduced to last {} digits",
        ctx.patient_id_digits
    ));
    let method: C<String> = method.into_iter().collect();
    obj.put(DataElement::new(PATIENT_IDENTITY_REMOVED, VR::CS, "YES"));
    obj.put(DataElement::new(
        DEIDENTIFICATION_METHOD,
        VR::LO,
        PrimitiveValue::Strs(method),
    ));
    let items: Vec<InMemDicomObject> = codes
        .iter()
        .map(|(value, meaning)| {
            InMemDicomObject::from_element_iter([
                DataElement::new(CODE_VALUE, VR::SH, *value),
                DataElement::new(CODING_SCHEME_DESIGNATOR, VR::SH, "DCM"),
                DataElement::new(CODE_MEANING, VR::LO, *meaning),
            ])
        })
        .collect();
    obj.put(DataElement::new(
        DEIDENTIFICATION_METHOD_CODE_SEQUENCE,
        VR::SQ,
        DataSetSequence::new(items, Length::UNDEFINED),
    ));
    let temporal = match ctx.retain_dates {
        DateMode::Keep => "UNMODIFIED",
        DateMode::ShiftPerPatient => "MODIFIED",
        DateMode::Remove => "REMOVED",
    };
    obj.put(DataElement::new(
        LONGITUDINAL_TEMPORAL_INFORMATION_MODIFIED,
        VR::CS,
        temporal,
    ));
}
