//! Who receives what in a call: the sending tracks each participant should have, as a diff.
//!
//! Every participant receives every other participant's tracks, never its own (a mesh
//! through the relay, each browser encoding once). The relay keeps, per receiver, the
//! tracks it sends; this module compares that with what should be and says which to open
//! and which to stop, so joining, leaving and a new camera are the same one step. Opening
//! and stopping both need a renegotiation with the receiver, which the caller batches.

use std::collections::BTreeSet;

/// A track as it arrives at the relay: the sender's conn and the sender-side mid.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Source {
    pub conn: String,
    pub mid: String,
}

/// The changes to one receiver's sending tracks.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Sources to add a sending track for.
    pub open: Vec<Source>,
    /// Sources whose sending track goes (the sender left, or stopped the track).
    pub stop: Vec<Source>,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.open.is_empty() && self.stop.is_empty()
    }
}

/// What `receiver` should change, given every incoming track of the call (`sources`) and
/// the sources it already sends (`sending`, including those still being negotiated).
pub fn plan(receiver: &str, sources: &[Source], sending: &[Source]) -> Plan {
    let wanted: BTreeSet<&Source> = sources.iter().filter(|s| s.conn != receiver).collect();
    let have: BTreeSet<&Source> = sending.iter().collect();
    Plan {
        open: wanted.difference(&have).map(|s| (*s).clone()).collect(),
        stop: have.difference(&wanted).map(|s| (*s).clone()).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src(conn: &str, mid: &str) -> Source {
        Source {
            conn: conn.into(),
            mid: mid.into(),
        }
    }

    #[test]
    fn a_receiver_gets_everyone_elses_tracks_but_not_its_own() {
        let sources = [src("a", "0"), src("a", "1"), src("b", "0"), src("c", "0")];
        let p = plan("b", &sources, &[]);
        assert_eq!(p.open, vec![src("a", "0"), src("a", "1"), src("c", "0")]);
        assert!(p.stop.is_empty());
    }

    #[test]
    fn nothing_changes_when_the_receiver_already_sends_it_all() {
        let sources = [src("a", "0"), src("b", "0")];
        assert!(plan("b", &sources, &[src("a", "0")]).is_empty());
    }

    #[test]
    fn a_leavers_tracks_stop_and_a_joiners_open() {
        // c left (its source is gone), d joined.
        let sources = [src("a", "0"), src("b", "0"), src("d", "0")];
        let sending = [src("a", "0"), src("c", "0")];
        let p = plan("b", &sources, &sending);
        assert_eq!(p.open, vec![src("d", "0")]);
        assert_eq!(p.stop, vec![src("c", "0")]);
    }
}
