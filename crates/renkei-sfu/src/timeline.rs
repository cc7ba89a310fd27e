//! One forwarded video's media clock, kept continuous across simulcast layer switches.
//!
//! Each simulcast layer is its own RTP stream with its own random timestamp origin. The
//! receiver sees one track, so a switch from `l` to `h` must not make its timestamps jump
//! (the jitter buffer would hold or drop frames). At a switch the new layer's time is
//! shifted so that it continues from the last frame written, advanced by the wall-clock
//! time between the two frames; within a layer the shift stays the same.

use std::time::Instant;

use str0m::media::MediaTime;

/// The shift applied to one forwarded track's media times.
#[derive(Debug, Default, Clone)]
pub struct Timeline {
    /// Added to every incoming time, in the track's clock units.
    offset: i64,
    /// The last time written and when its frame arrived.
    last: Option<(MediaTime, Instant)>,
}

impl Timeline {
    /// Starts following a new layer with its first frame (`time`, arrived at `arrived`).
    pub fn switch(&mut self, time: MediaTime, arrived: Instant) {
        let Some((last, last_arrived)) = self.last else {
            self.offset = 0;
            return;
        };
        let rate = u64::from(time.denom());
        let elapsed = arrived.saturating_duration_since(last_arrived);
        let ticks = (elapsed.as_micros() as u64 * rate / 1_000_000).max(1);
        let target = last.rebase(time.frequency()).numer() + ticks;
        self.offset = target as i64 - time.numer() as i64;
    }

    /// The time to write for a frame of the current layer.
    pub fn map(&mut self, time: MediaTime, arrived: Instant) -> MediaTime {
        let numer = (time.numer() as i64 + self.offset).max(0) as u64;
        let out = MediaTime::new(numer, time.frequency());
        self.last = Some((out, arrived));
        out
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use str0m::media::Frequency;

    use super::*;

    fn t(v: u64) -> MediaTime {
        MediaTime::new(v, Frequency::NINETY_KHZ)
    }

    #[test]
    fn times_pass_unchanged_until_a_switch() {
        let now = Instant::now();
        let mut line = Timeline::default();
        line.switch(t(1000), now);
        assert_eq!(line.map(t(1000), now), t(1000));
        assert_eq!(line.map(t(4000), now), t(4000));
    }

    #[test]
    fn a_switch_continues_from_the_last_frame_by_the_time_between_them() {
        let now = Instant::now();
        let mut line = Timeline::default();
        line.switch(t(1000), now);
        line.map(t(1000), now);
        // The new layer's clock starts far away; its first frame arrives 100 ms later.
        let later = now + Duration::from_millis(100);
        line.switch(t(7_000_000), later);
        assert_eq!(line.map(t(7_000_000), later), t(1000 + 9000));
        // and frames of the new layer keep their spacing.
        assert_eq!(line.map(t(7_003_000), later), t(13_000));
    }
}
