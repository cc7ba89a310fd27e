//! Inbox thumbnails: a study's key frame (the middle instance of its main series, its first
//! frame) rendered small as JPEG. Kept in memory only, keyed by the study and its instance
//! count (a study that grows gets a new one), emptied by every expiry sweep; never written to
//! disk, so there is nothing to encrypt.

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;
use renkei_core::Uuid;
use renkei_core::dicom::{Instance, Series, Study};
use renkei_dicom::render::{ImageFormat, RenderOptions};
use tokio::sync::Semaphore;

use crate::dicom::DicomService;
use crate::error::{OrService, ServiceError, ServiceResult};

/// Largest thumbnail side in pixels (a card shows it at 64–80 CSS pixels, 2x for sharp screens).
pub const SIDE: u32 = 160;
/// Thumbnails kept; beyond that the cache starts again.
const CAPACITY: usize = 512;
/// Thumbnails rendered at once: an inbox of 50 cards must not take every core.
static RENDERING: Semaphore = Semaphore::const_new(2);

/// Waveforms (ECG) have no pixels to show.
const WAVEFORM_CLASSES: &str = "1.2.840.10008.5.1.4.1.1.9.";

/// Rendered thumbnails by (study, instance count, held instances).
#[derive(Default)]
pub struct Thumbnails(HashMap<(Uuid, i64, i64), Bytes>);

impl Thumbnails {
    pub fn clear(&mut self) {
        self.0.clear();
    }
}

/// The series to show: the one with the most instances (the stack, not a scout), the first
/// by series number among equals — the one the viewer opens on.
pub fn main_series(series: &[Series]) -> Option<&Series> {
    let mut ordered: Vec<&Series> = series.iter().collect();
    ordered.sort_by_key(|s| (s.series_number.unwrap_or(i64::MAX), s.series_uid.clone()));
    ordered.into_iter().rev().max_by_key(|s| s.instance_count)
}

/// The key instance of a series: the middle one by instance number (where the anatomy is), the
/// first of two or one; none for waveforms.
pub fn key_instance(instances: &[Instance]) -> Option<&Instance> {
    let mut ordered: Vec<&Instance> = instances
        .iter()
        .filter(|i| !i.sop_class.starts_with(WAVEFORM_CLASSES))
        .collect();
    ordered.sort_by(|a, b| {
        (a.instance_number.unwrap_or(i64::MAX), &a.sop_uid)
            .cmp(&(b.instance_number.unwrap_or(i64::MAX), &b.sop_uid))
    });
    let middle = if ordered.len() > 2 {
        ordered.len() / 2
    } else {
        0
    };
    ordered.get(middle).copied()
}

/// The regions to outline on an instance's first frame (none once it is released).
fn outlines(instance: &Instance) -> Vec<renkei_dicom::text::Region> {
    if !instance.held {
        return Vec::new();
    }
    instance
        .text_regions
        .iter()
        .filter(|r| r.frame == 0)
        .map(|r| renkei_dicom::text::Region {
            frame: r.frame,
            x: r.x,
            y: r.y,
            width: r.width,
            height: r.height,
        })
        .collect()
}

/// Columns (0028,0011): the width the regions are measured in.
fn columns(obj: &dicom_object::DefaultDicomObject) -> u32 {
    obj.get(dicom_dictionary_std::tags::COLUMNS)
        .and_then(|e| e.to_int::<u32>().ok())
        .unwrap_or(0)
}

fn no_thumbnail() -> ServiceError {
    ServiceError::not_found("thumbnail_unavailable")
}

impl DicomService {
    /// The thumbnail of `study` (which the caller may see), rendered once per size of the study.
    pub async fn thumbnail(&self, study: &Study) -> ServiceResult<Bytes> {
        let key = (study.id, study.instance_count, study.held_instances);
        if let Some(jpeg) = self
            .thumbnails
            .lock()
            .ok()
            .and_then(|t| t.0.get(&key).cloned())
        {
            return Ok(jpeg);
        }
        let series = self
            .store
            .series_of(study.id)
            .await
            .or_service("study_not_found")?;
        let main = main_series(&series).ok_or_else(no_thumbnail)?;
        let instances = self
            .store
            .instances_of(study.id, Some(&main.series_uid))
            .await
            .or_service("study_not_found")?;
        // A held study shows a held instance, its text outlined.
        let shown = instances
            .iter()
            .find(|i| i.held && !i.text_regions.is_empty())
            .or_else(|| key_instance(&instances))
            .ok_or_else(no_thumbnail)?;
        let (sop_uid, outlined) = (shown.sop_uid.clone(), outlines(shown));
        let _turn = RENDERING
            .acquire()
            .await
            .map_err(|e| ServiceError::internal(&e))?;
        // Parsed for this once: inbox thumbnails must not push the viewer's instances out.
        let obj = Arc::new(self.read_instance(study.id, &sop_uid).await?);
        let options = RenderOptions {
            window: None,
            window_function: None,
            format: ImageFormat::Jpeg { quality: 80 },
            viewport: Some((SIDE, SIDE)),
        };
        let jpeg = tokio::task::spawn_blocking(move || {
            let image = renkei_dicom::render::display_frame(&obj, 0, &options)?;
            let image = renkei_dicom::text::outline(image, &outlined, columns(&obj));
            renkei_dicom::render::encode(&image, options.format)
        })
        .await
        .map_err(|e| ServiceError::internal(&e))?
        .map_err(|_| no_thumbnail())?;
        let jpeg = Bytes::from(jpeg);
        if let Ok(mut thumbnails) = self.thumbnails.lock() {
            if thumbnails.0.len() >= CAPACITY {
                thumbnails.clear();
            }
            thumbnails.0.insert(key, jpeg.clone());
        }
        Ok(jpeg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(uid: &str, number: Option<i64>, count: i64) -> Series {
        Series {
            series_uid: uid.into(),
            modality: None,
            series_number: number,
            description: None,
            body_part: None,
            instance_count: count,
        }
    }

    fn instance(uid: &str, number: Option<i64>, class: &str) -> Instance {
        Instance {
            series_uid: "s".into(),
            sop_uid: uid.into(),
            sop_class: class.into(),
            instance_number: number,
            frames: 1,
            transfer_syntax: String::new(),
            size: 0,
            held: false,
            text_regions: Vec::new(),
        }
    }

    #[test]
    fn the_main_series_is_the_largest_and_the_first_of_equals() {
        let list = [
            series("scout", Some(1), 2),
            series("axial", Some(3), 120),
            series("coronal", Some(2), 120),
        ];
        assert_eq!(main_series(&list).unwrap().series_uid, "coronal");
        assert!(main_series(&[]).is_none());
    }

    #[test]
    fn the_key_instance_is_the_middle_one_by_number() {
        const CT: &str = "1.2.840.10008.5.1.4.1.1.2";
        let list: Vec<_> = [5, 1, 3, 2, 4]
            .iter()
            .map(|n| instance(&format!("i{n}"), Some(*n), CT))
            .collect();
        assert_eq!(key_instance(&list).unwrap().sop_uid, "i3");
        assert_eq!(
            key_instance(&list[..2]).unwrap().sop_uid,
            "i1",
            "of two, the first"
        );
        let ecg = [instance("e", Some(1), "1.2.840.10008.5.1.4.1.1.9.1.1")];
        assert!(key_instance(&ecg).is_none(), "a waveform has no picture");
    }
}
