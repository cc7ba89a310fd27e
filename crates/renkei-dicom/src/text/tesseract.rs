//! The text detector on Debian's Tesseract (libtesseract 5, `jpn+eng`), through its C API.
//!
//! Why not a crate: every maintained binding (`leptess`, `tesseract`, `tesseract-plumbing`) sits
//! on `tesseract-sys` and `leptonica-sys`, which run bindgen at build time: libclang on every
//! machine and CI, and bindgen's build on two shared cores, for the dozen functions used here.
//! Tesseract's C API (`tesseract/capi.h`) is its stable interface, so these are declared by
//! hand, linked against the system library that `libtesseract-dev` installs.
//!
//! Recognised text stays inside [`Tesseract::detect`]: each word is read, judged as text or
//! noise by [`is_text`], and freed; only its rectangle leaves.

use std::ffi::{CStr, CString, c_char, c_float, c_int, c_uchar, c_void};
use std::sync::Mutex;

use super::{DetectError, GreyImage, Region, TextDetector};

type Api = c_void;
type ResultIterator = c_void;
type PageIterator = c_void;

/// `PSM_SPARSE_TEXT`: as much text as possible in no particular order (captions, labels).
const PSM_SPARSE_TEXT: c_int = 11;
/// `RIL_WORD`.
const RIL_WORD: c_int = 3;

#[link(name = "tesseract")]
unsafe extern "C" {
    fn TessBaseAPICreate() -> *mut Api;
    fn TessBaseAPIDelete(handle: *mut Api);
    fn TessBaseAPIInit3(
        handle: *mut Api,
        datapath: *const c_char,
        language: *const c_char,
    ) -> c_int;
    fn TessBaseAPISetVariable(handle: *mut Api, name: *const c_char, value: *const c_char)
    -> c_int;
    fn TessBaseAPISetPageSegMode(handle: *mut Api, mode: c_int);
    fn TessBaseAPISetImage(
        handle: *mut Api,
        data: *const c_uchar,
        width: c_int,
        height: c_int,
        bytes_per_pixel: c_int,
        bytes_per_line: c_int,
    );
    fn TessBaseAPISetSourceResolution(handle: *mut Api, ppi: c_int);
    fn TessBaseAPIRecognize(handle: *mut Api, monitor: *mut c_void) -> c_int;
    fn TessBaseAPIGetIterator(handle: *mut Api) -> *mut ResultIterator;
    fn TessBaseAPIClear(handle: *mut Api);
    fn TessResultIteratorDelete(handle: *mut ResultIterator);
    fn TessResultIteratorNext(handle: *mut ResultIterator, level: c_int) -> c_int;
    fn TessResultIteratorGetUTF8Text(handle: *const ResultIterator, level: c_int) -> *mut c_char;
    fn TessResultIteratorConfidence(handle: *const ResultIterator, level: c_int) -> c_float;
    fn TessResultIteratorGetPageIteratorConst(handle: *const ResultIterator)
    -> *const PageIterator;
    fn TessPageIteratorBoundingBox(
        handle: *const PageIterator,
        level: c_int,
        left: *mut c_int,
        top: *mut c_int,
        right: *mut c_int,
        bottom: *mut c_int,
    ) -> c_int;
    fn TessDeleteText(text: *const c_char);
}

/// One initialised Tesseract engine (not thread-safe: used by one thread at a time).
struct Engine(*mut Api);

// SAFETY: a TessBaseAPI may move between threads; the pool hands each to one user at a time.
unsafe impl Send for Engine {}

impl Drop for Engine {
    fn drop(&mut self) {
        // SAFETY: created by TessBaseAPICreate, dropped once.
        unsafe { TessBaseAPIDelete(self.0) }
    }
}

/// Binarisations tried in turn until one finds text: Leptonica's adaptive Otsu (labels on
/// textured photos, corner text on radiographs), then Tesseract's global Otsu (small bright
/// text on a dark ultrasound header band).
const THRESHOLDING: [&CStr; 2] = [c"1", c"0"];

impl Engine {
    fn new(languages: &str) -> Result<Engine, DetectError> {
        let languages = CString::new(languages).map_err(|_| DetectError::Unavailable)?;
        // SAFETY: plain C calls on a handle we own; strings outlive the calls.
        unsafe {
            let api = TessBaseAPICreate();
            if api.is_null() {
                return Err(DetectError::Unavailable);
            }
            let engine = Engine(api);
            if TessBaseAPIInit3(api, std::ptr::null(), languages.as_ptr()) != 0 {
                return Err(DetectError::Unavailable);
            }
            TessBaseAPISetPageSegMode(api, PSM_SPARSE_TEXT);
            // No words to a debug file or stderr.
            TessBaseAPISetVariable(api, c"debug_file".as_ptr(), c"/dev/null".as_ptr());
            // No second, inverted recognition of every weak word: on speckle every blob is
            // weak, so it doubled the time (141 → 102 s for the 36-image set, detection unchanged).
            TessBaseAPISetVariable(api, c"tessedit_do_invert".as_ptr(), c"0".as_ptr());
            Ok(engine)
        }
    }

    /// The rectangles of the words judged to be text, under one binarisation.
    fn words(&mut self, image: &GreyImage, thresholding: &CStr) -> Vec<Region> {
        let mut found = Vec::new();
        // SAFETY: the image buffer outlives recognition (SetImage copies it); every string the
        // iterator returns is freed with TessDeleteText; the iterator is deleted once.
        unsafe {
            let api = self.0;
            TessBaseAPISetVariable(api, c"thresholding_method".as_ptr(), thresholding.as_ptr());
            TessBaseAPISetImage(
                api,
                image.pixels.as_ptr(),
                image.width as c_int,
                image.height as c_int,
                1,
                image.width as c_int,
            );
            // What the command line assumes of an image without a resolution. Claiming 300
            // (a scan) makes it discard the label text of a phone photo as too small.
            TessBaseAPISetSourceResolution(api, 70);
            if TessBaseAPIRecognize(api, std::ptr::null_mut()) != 0 {
                TessBaseAPIClear(api);
                return found;
            }
            let it = TessBaseAPIGetIterator(api);
            if !it.is_null() {
                loop {
                    let text = TessResultIteratorGetUTF8Text(it, RIL_WORD);
                    if !text.is_null() {
                        let confidence = TessResultIteratorConfidence(it, RIL_WORD);
                        let judged =
                            is_text(CStr::from_ptr(text).to_string_lossy().as_ref(), confidence);
                        TessDeleteText(text);
                        let page = TessResultIteratorGetPageIteratorConst(it);
                        let (mut l, mut t, mut r, mut b) = (0, 0, 0, 0);
                        if judged
                            && TessPageIteratorBoundingBox(
                                page, RIL_WORD, &mut l, &mut t, &mut r, &mut b,
                            ) != 0
                        {
                            found.push(Region::from_edges(l, t, r, b));
                        }
                    }
                    if TessResultIteratorNext(it, RIL_WORD) == 0 {
                        break;
                    }
                }
                TessResultIteratorDelete(it);
            }
            TessBaseAPIClear(api);
        }
        found
    }
}

/// Whether a recognised word is text rather than noise read as letters: a confident word of
/// three or more Latin letters or digits (a name, an ID, a date), or of two or more kanji (a
/// Japanese name). Speckle and gradients come out as one or two kana, punctuation or single
/// letters at lower confidence; a lone lead marker (`L`, `R`) is not a name.
pub fn is_text(word: &str, confidence: f32) -> bool {
    let latin = word.chars().filter(char::is_ascii_alphanumeric).count();
    let kanji = word
        .chars()
        .filter(|c| ('\u{4e00}'..='\u{9fff}').contains(c))
        .count();
    (confidence >= 80.0 && latin >= 3) || (confidence >= 85.0 && kanji >= 2)
}

/// Tesseract with Japanese and English models, a few engines kept for reuse (loading the
/// models takes a fraction of a second).
pub struct Tesseract {
    languages: String,
    idle: Mutex<Vec<Engine>>,
}

/// Engines kept idle at most (more may run at once; the rest are dropped after use).
const IDLE_ENGINES: usize = 4;

impl Tesseract {
    /// A detector reading `jpn+eng`; fails when the library or its models are missing.
    pub fn new() -> Result<Tesseract, DetectError> {
        let tesseract = Tesseract {
            languages: "jpn+eng".into(),
            idle: Mutex::new(Vec::new()),
        };
        let engine = Engine::new(&tesseract.languages)?;
        tesseract.give_back(engine);
        Ok(tesseract)
    }

    fn take(&self) -> Result<Engine, DetectError> {
        let idle = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        match idle {
            Some(engine) => Ok(engine),
            None => Engine::new(&self.languages),
        }
    }

    fn give_back(&self, engine: Engine) {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < IDLE_ENGINES {
            idle.push(engine);
        }
    }
}

impl TextDetector for Tesseract {
    fn detect(&self, image: &GreyImage) -> Result<Vec<Region>, DetectError> {
        let mut engine = self.take()?;
        let mut regions = Vec::new();
        for thresholding in THRESHOLDING {
            regions = engine.words(image, thresholding);
            if !regions.is_empty() {
                break;
            }
        }
        self.give_back(engine);
        Ok(regions)
    }
}

#[cfg(test)]
mod tests {
    use super::is_text;

    #[test]
    fn words_and_noise() {
        assert!(is_text("YAMADA", 92.0));
        assert!(is_text("67024731", 95.0));
        assert!(is_text("山田", 95.0));
        assert!(!is_text("山田", 70.0));
        assert!(!is_text("の", 99.0));
        assert!(!is_text("くる", 90.0));
        assert!(!is_text("R", 95.0));
        assert!(!is_text("ee", 95.0));
        assert!(!is_text("Wit", 40.0));
    }
}
