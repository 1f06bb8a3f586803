//! Every timer the core uses, when each is due, and firing them. The shell keeps one
//! host timer armed at `poll_timeout()` and calls `on_timeout(now)` when it fires.

use super::action::{Action, Warning};
use super::lifecycle::Phase;
use super::machine::Machine;
use super::outcome::PostOutcome;
use super::probe::ProbeOutcome;
use super::receipt::AnswerBody;
use super::stats::bump;

/// The core's timers, in the order they fire when due together.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Timer {
    /// A POST unanswered for `post_timeout_ms` is aborted and counts as `TimedOut`.
    PostTimeout,
    /// A message's backoff after a transient failure is over.
    SendRetry,
    /// The current stream was silent for `stale_after_ms`: rebuild it.
    StaleStream,
    /// The delay after a failed reconnect is over: open a new stream.
    Reconnect,
    /// The foreground probe's echo did not come in time: rebuild the stream.
    Probe,
    /// A gap in a chain still open, or a snapshot offer not applied, too long: resync.
    Resync,
}

const ALL: [Timer; 6] = [
    Timer::PostTimeout,
    Timer::SendRetry,
    Timer::StaleStream,
    Timer::Reconnect,
    Timer::Probe,
    Timer::Resync,
];

impl Machine {
    /// The earliest deadline, if any timer is armed. Off by default except while
    /// a reconnect is scheduled, so no timer re-arms itself forever.
    pub fn poll_timeout(&self) -> Option<u64> {
        let mut earliest = None;
        for timer in ALL {
            if let Some(at) = self.deadline(timer) {
                earliest = Some(earliest.map_or(at, |e: u64| e.min(at)));
            }
        }
        earliest
    }

    /// Fires every timer due by `now`.
    pub fn on_timeout(&mut self, now: u64) {
        // Each firing clears its deadline or moves it past `now`, so this ends.
        'due: loop {
            for timer in ALL {
                if self.deadline(timer).is_some_and(|d| d <= now) {
                    self.fire(now, timer);
                    continue 'due;
                }
            }
            break;
        }
        self.flush(now);
    }

    fn deadline(&self, timer: Timer) -> Option<u64> {
        match timer {
            Timer::PostTimeout => self.flights.next_deadline(),
            Timer::SendRetry => self.retries.next_due(),
            Timer::StaleStream => {
                let silence = self.config.stale_after_ms?;
                self.phase.stream()?;
                Some(self.last_activity.saturating_add(silence.max(1)))
            }
            Timer::Reconnect => match self.phase {
                Phase::Scheduled { at } => Some(at),
                _ => None,
            },
            Timer::Probe => self.probe.deadline(),
            Timer::Resync => match (self.chain.gap_deadline(), self.chain.offers.deadline()) {
                (Some(gap), Some(offer)) => Some(gap.min(offer)),
                (gap, offer) => gap.or(offer),
            },
        }
    }

    fn fire(&mut self, now: u64, timer: Timer) {
        match timer {
            Timer::PostTimeout => {
                if let Some(flight) = self.flights.take_expired(now) {
                    bump(&mut self.stats.post_timeouts);
                    self.push(Action::AbortPost(flight.post));
                    self.settle(now, flight, PostOutcome::TimedOut, AnswerBody::NotAReceipt);
                }
            }
            Timer::SendRetry => {
                if let Some(item) = self.retries.take_due(now) {
                    self.retry_due(now, item);
                }
            }
            Timer::StaleStream => {
                bump(&mut self.stats.stale_streams);
                self.push(Action::Warn(Warning::StaleStream));
                self.restart_stream(now);
            }
            Timer::Reconnect => self.reopen_after_delay(now),
            Timer::Probe => self.fail_probe(now, ProbeOutcome::NoEcho),
            Timer::Resync => self.resync(now),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::config::Config;
    use crate::core::endpoint::Endpoint;
    use crate::core::ids::StreamId;

    fn connected(config: Config) -> Machine {
        let mut m = Machine::new(config, 1);
        m.connect(0);
        m.on_welcome(0, StreamId(1), "c1");
        while m.poll_action().is_some() {}
        m
    }

    #[test]
    fn poll_timeout_is_the_earliest_armed_deadline() {
        let mut m = connected(Config {
            stale_after_ms: Some(30_000),
            post_timeout_ms: Some(10_000),
            ..Config::default()
        });
        assert_eq!(m.poll_timeout(), Some(30_000));
        m.send(5, Endpoint::Send);
        assert_eq!(m.poll_timeout(), Some(10_005));
    }

    #[test]
    fn timers_due_together_fire_post_timeouts_first() {
        let mut m = connected(Config {
            stale_after_ms: Some(1_000),
            post_timeout_ms: Some(1_000),
            ..Config::default()
        });
        m.send(0, Endpoint::Send);
        while m.poll_action().is_some() {}
        m.on_timeout(1_000);
        assert!(matches!(m.poll_action(), Some(Action::AbortPost(_))));
    }

    #[test]
    fn on_timeout_before_any_deadline_does_nothing() {
        let mut m = connected(Config {
            stale_after_ms: Some(1_000),
            ..Config::default()
        });
        m.on_timeout(999);
        assert_eq!(m.poll_action(), None);
    }
}
