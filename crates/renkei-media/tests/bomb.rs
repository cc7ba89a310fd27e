//! Decompression bombs: absurd dimensions are refused from the header, before any pixel
//! buffer is allocated. A counting allocator measures what the refusal allocates.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::*;
use renkei_media::{Limits, sanitize_photo, thumbnail};

/// Counts the largest single allocation made while `TRACKING` is on.
struct CountingAllocator;

static LARGEST_ALLOCATION: AtomicUsize = AtomicUsize::new(0);
static TRACKING: AtomicUsize = AtomicUsize::new(0);
/// The tests in this file run one at a time so that measurements do not mix.
static SERIAL: Mutex<()> = Mutex::new(());

unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if TRACKING.load(Ordering::Relaxed) == 1 {
            LARGEST_ALLOCATION.fetch_max(layout.size(), Ordering::Relaxed);
        }
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// Runs `f` and returns its result, the largest allocation it made and how long it took.
fn measured<T>(f: impl FnOnce() -> T) -> (T, usize, Duration) {
    LARGEST_ALLOCATION.store(0, Ordering::Relaxed);
    TRACKING.store(1, Ordering::Relaxed);
    let started = Instant::now();
    let result = f();
    let elapsed = started.elapsed();
    TRACKING.store(0, Ordering::Relaxed);
    (result, LARGEST_ALLOCATION.load(Ordering::Relaxed), elapsed)
}

/// A PNG whose IHDR declares `width`×`height` RGBA, followed by a little compressed data.
fn png_declaring(width: u32, height: u32) -> Vec<u8> {
    let mut ihdr = width.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 6, 0, 0, 0]);
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend_from_slice(&png_chunk(b"IHDR", &ihdr));
    // zlib stream of a few kilobytes of zeros: a real bomb would be much longer.
    png.extend_from_slice(&png_chunk(
        b"IDAT",
        &[0x78, 0x9C, 0xED, 0xC1, 0x01, 0x0D, 0, 0, 0],
    ));
    png.extend_from_slice(&png_chunk(b"IEND", &[]));
    png
}

/// A JPEG whose frame header declares `width`×`height` (real tables and scan of a tiny image).
fn jpeg_declaring(width: u16, height: u16) -> Vec<u8> {
    let mut jpeg = encode_jpeg(&marked_picture(16, 16), 80);
    let sof = jpeg
        .windows(2)
        .position(|w| w == [0xFF, 0xC0])
        .expect("baseline frame header");
    jpeg[sof + 5..sof + 7].copy_from_slice(&height.to_be_bytes());
    jpeg[sof + 7..sof + 9].copy_from_slice(&width.to_be_bytes());
    jpeg
}

const ONE_MIB: usize = 1024 * 1024;

#[test]
fn png_declaring_100000_by_100000_is_refused_fast_without_allocating() {
    let _serial = SERIAL.lock();
    let bomb = png_declaring(100_000, 100_000);
    let (result, largest, elapsed) = measured(|| sanitize_photo(&bomb, &Limits::default()));
    assert_eq!(
        result.map(|_| ()).map_err(|e| e.code()),
        Err("image_too_large")
    );
    assert!(largest < ONE_MIB, "largest allocation {largest} bytes");
    assert!(elapsed < Duration::from_millis(200), "took {elapsed:?}");

    // Control: within the limits the decoder does allocate the full buffer (2000 × 2000 RGBA
    // is 16 MB) before finding the data short, so the measurement above means something.
    let within_limits = png_declaring(2_000, 2_000);
    let (result, largest, _) = measured(|| sanitize_photo(&within_limits, &Limits::default()));
    assert!(result.is_err());
    assert!(largest >= 16_000_000, "largest allocation {largest} bytes");
}

#[test]
fn jpeg_declaring_65000_by_65000_is_refused_without_allocating() {
    let _serial = SERIAL.lock();
    let bomb = jpeg_declaring(65_000, 65_000);
    let (result, largest, _) = measured(|| sanitize_photo(&bomb, &Limits::default()));
    assert_eq!(
        result.map(|_| ()).map_err(|e| e.code()),
        Err("image_too_large")
    );
    assert!(largest < ONE_MIB, "largest allocation {largest} bytes");
    let (result, largest, _) = measured(|| thumbnail(&bomb, 320));
    assert_eq!(
        result.map(|_| ()).map_err(|e| e.code()),
        Err("image_too_large")
    );
    assert!(largest < ONE_MIB, "largest allocation {largest} bytes");
}

#[test]
fn each_limit_is_enforced_on_its_own() {
    let _serial = SERIAL.lock();
    let limits = Limits::default();
    let too_wide = png_declaring(12_001, 10);
    let too_tall = png_declaring(10, 12_001);
    // 8000 × 8000 fits each side but is 64 megapixels, over the 50 MP limit.
    let too_many_pixels = png_declaring(8_000, 8_000);
    for bomb in [too_wide, too_tall, too_many_pixels] {
        let (result, largest, _) = measured(|| sanitize_photo(&bomb, &limits));
        assert_eq!(
            result.map(|_| ()).map_err(|e| e.code()),
            Err("image_too_large")
        );
        assert!(largest < ONE_MIB, "largest allocation {largest} bytes");
    }
    // Tighter limits chosen by the caller apply too.
    let small = Limits {
        max_pixels: 100,
        ..Limits::default()
    };
    let photo = encode_jpeg(&marked_picture(16, 16), 80);
    assert_eq!(
        sanitize_photo(&photo, &small)
            .map(|_| ())
            .map_err(|e| e.code()),
        Err("image_too_large")
    );
    assert!(sanitize_photo(&photo, &limits).is_ok());
}

#[test]
fn decoder_memory_limit_refuses_an_image_within_the_pixel_limits() {
    let _serial = SERIAL.lock();
    let photo = encode_jpeg(&marked_picture(64, 64), 80);
    let limits = Limits {
        // 64 × 64 RGB is 12 KiB.
        max_decode_bytes: 4 * 1024,
        ..Limits::default()
    };
    assert_eq!(
        sanitize_photo(&photo, &limits)
            .map(|_| ())
            .map_err(|e| e.code()),
        Err("image_too_large")
    );
}
