//! Rendering DICOM frames for viewers and extracting waveforms: pure functions over objects.
//!
//! - [`frame_count`] and [`decode_frame`]: stored pixel values of one frame.
//! - [`render`]: a frame windowed to 8 bits, fitted to a viewport, as PNG or JPEG.
//! - [`native_frame`]: a frame as uncompressed little-endian bytes (WADO-RS frames), or
//!   [`stored_frame`] as stored when [`frames_as`] says the client takes that.
//! - [`raw_frame`]: 16-bit modality values with window presets for client-side windowing.
//! - [`waveforms`]: ECG (and other) waveform channels scaled to µV, serialisable as JSON.
//!
//! See `docs/DICOM_RENDERING.md` for the supported transfer syntaxes and the files that cannot
//! be rendered.

mod attrs;
mod color;
pub mod error;
mod frame;
mod grey;
mod info;
mod native;
mod output;
mod raw;
mod rle;
mod waveform;

pub use error::RenderError;
pub use frame::{DecodedFrame, MAX_FRAME_BYTES, Samples, decode_frame, frame_count};
pub use info::{Photometric, Rescale, VoiFunction, WindowPreset};
pub(crate) use native::le_bytes;
pub use native::{EXPLICIT_VR_LITTLE_ENDIAN, FramesAs, frames_as, native_frame, stored_frame};
pub use output::{
    DisplayImage, ImageFormat, RenderOptions, display_frame, encode, fitted_size, render,
};
pub use raw::{RawFrame, RawFrameInfo, RawSampleType, raw_frame};
pub use waveform::{WaveformChannel, WaveformGroup, waveforms};
