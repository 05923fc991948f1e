//! One lane per endpoint (and one for customers' emails), so a slow or failing endpoint
//! holds up only its own alerts. A lane sends one batch at a time; after
//! `TRIP_AFTER` failures in a row its circuit opens and it rests, for a cool-down that
//! doubles each time it trips again, then one message probes whether it has recovered.

use std::collections::HashMap;

/// Failures in a row that open a lane's circuit.
pub const TRIP_AFTER: u32 = 5;
/// The first rest of an open circuit.
pub const FIRST_REST_MS: i64 = 30_000;
/// The longest rest.
pub const LONGEST_REST_MS: i64 = 10 * 60_000;

/// The lane of a message: its endpoint's id, or 0 for a customer's email.
pub fn lane_of(endpoint_id: Option<i64>) -> i64 {
    endpoint_id.unwrap_or(0)
}

#[derive(Debug, Default)]
struct Lane {
    /// Failures since the last delivery.
    failures: u32,
    /// Open until then (Unix ms); 0 when closed.
    open_until: i64,
    /// The rest it took when it last opened.
    rest_ms: i64,
}

/// Every lane's circuit, kept by the delivery worker (which knows which lanes are
/// sending a batch).
#[derive(Debug, Default)]
pub struct Lanes {
    lanes: HashMap<i64, Lane>,
}

impl Lanes {
    /// Lanes resting at `now`: a claim leaves them alone.
    pub fn resting(&self, now: i64) -> Vec<i64> {
        self.lanes
            .iter()
            .filter(|(_, lane)| lane.open_until > now)
            .map(|(id, _)| *id)
            .collect()
    }

    /// Lanes whose rest is over: they send one message to see if the endpoint is back.
    pub fn probing(&self, now: i64) -> Vec<i64> {
        self.lanes
            .iter()
            .filter(|(_, lane)| lane.open_until != 0 && lane.open_until <= now)
            .map(|(id, _)| *id)
            .collect()
    }

    /// One send of the lane ended: `delivered`, or failed in a way worth retrying.
    /// Returns how long the lane now rests when this opened its circuit.
    pub fn sent(&mut self, lane: i64, delivered: bool, now: i64) -> Option<i64> {
        let state = self.lanes.entry(lane).or_default();
        if delivered {
            *state = Lane::default();
            return None;
        }
        state.failures += 1;
        let probe_failed = state.open_until != 0 && state.open_until <= now;
        if state.failures < TRIP_AFTER && !probe_failed {
            return None;
        }
        if state.open_until > now {
            return None;
        }
        state.rest_ms = match state.rest_ms {
            0 => FIRST_REST_MS,
            rest => (rest * 2).min(LONGEST_REST_MS),
        };
        state.open_until = now + state.rest_ms;
        Some(state.rest_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lane_rests_after_failures_in_a_row_and_probes_before_it_reopens() {
        let mut lanes = Lanes::default();
        for _ in 1..TRIP_AFTER {
            assert_eq!(lanes.sent(7, false, 0), None);
        }
        assert_eq!(lanes.sent(7, false, 0), Some(FIRST_REST_MS));
        assert_eq!(lanes.resting(1), vec![7], "resting");
        assert!(lanes.probing(1).is_empty());
        assert!(lanes.resting(FIRST_REST_MS).is_empty());
        assert_eq!(lanes.probing(FIRST_REST_MS), vec![7], "one message probes");

        // The probe fails: a longer rest.
        assert_eq!(lanes.sent(7, false, FIRST_REST_MS), Some(2 * FIRST_REST_MS));
        let back = 3 * FIRST_REST_MS;
        assert_eq!(lanes.probing(back), vec![7]);
        // The probe gets through: the lane is as new.
        assert_eq!(lanes.sent(7, true, back), None);
        assert!(lanes.probing(back).is_empty() && lanes.resting(back).is_empty());
        assert_eq!(lanes.sent(7, false, back), None, "failures count from zero");
    }

    #[test]
    fn a_delivery_between_failures_keeps_the_lane_open_and_lanes_are_apart() {
        let mut lanes = Lanes::default();
        for round in 0..10 {
            for _ in 1..TRIP_AFTER {
                assert_eq!(lanes.sent(1, false, round), None);
            }
            assert_eq!(lanes.sent(1, true, round), None);
        }
        assert!(lanes.resting(0).is_empty());
        for _ in 0..TRIP_AFTER {
            lanes.sent(2, false, 0);
        }
        assert_eq!(lanes.resting(1), vec![2], "lane 1 was never tripped");
    }

    #[test]
    fn rests_double_up_to_ten_minutes() {
        let mut lanes = Lanes::default();
        let mut now = 0;
        for _ in 0..TRIP_AFTER {
            lanes.sent(3, false, now);
        }
        let mut rests = Vec::new();
        for _ in 0..8 {
            now += LONGEST_REST_MS;
            rests.push(lanes.sent(3, false, now).unwrap());
        }
        assert_eq!(rests[0], 2 * FIRST_REST_MS);
        assert_eq!(*rests.last().unwrap(), LONGEST_REST_MS);
    }
}
