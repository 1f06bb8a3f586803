//! The foreground liveness probe (opt-in, `Config::foreground_probe`;
//! docs/delivery-rules.md, rule 23): this module owns the probe in flight (its nonce,
//! its POST, its deadline) and the outcome of the last one.
//!
//! A stream can look connected while it is dead: a page in the background for a while
//! (a laptop asleep, a phone's radio off) comes back with an `EventSource` still
//! `OPEN` on a connection the network silently dropped. So when the page comes back to
//! the foreground on a connection that looks connected, the core posts a probe
//! (`/api/chat/probe`, `{nonce}`) and the server echoes `{type: "_probe", nonce}` on the
//! stream. The echo within [`PROBE_DEADLINE_MS`] proves the stream alive: it is kept,
//! and the tracked sessions (which the page suspended as it was hidden, rule 9) are
//! replayed. No echo by then, or a probe POST that fails, proves nothing alive: the
//! stream is rebuilt. Anything that ends the connection first (a rebuild, a stream
//! error, `disconnect`) cancels the probe, through the generation (`bump_generation`),
//! so a late echo or answer changes nothing. Sends never wait for the probe.

use alloc::string::String;

use super::action::{Action, Warning};
use super::flight::{Flight, Purpose};
use super::ids::{PostId, StreamId};
use super::machine::Machine;
use super::outcome::PostOutcome;
use super::stats::bump;

/// How long the echo may take: past this, the stream is taken for dead.
pub const PROBE_DEADLINE_MS: u64 = 1_000;

/// How the last probe ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProbeOutcome {
    /// Its echo came in time, `round_trip_ms` after the probe was posted: the stream
    /// was kept.
    Echoed { round_trip_ms: u64 },
    /// No echo within [`PROBE_DEADLINE_MS`]: the stream was rebuilt.
    NoEcho,
    /// Its POST was answered with anything but a 2xx, failed on the network or timed
    /// out: the stream was rebuilt.
    PostFailed(PostOutcome),
    /// The connection ended before the probe did (a rebuild, a stream error,
    /// `disconnect`).
    Cancelled,
}

impl ProbeOutcome {
    /// The stream proved alive.
    pub fn is_ok(self) -> bool {
        matches!(self, ProbeOutcome::Echoed { .. })
    }
}

/// The probe in flight.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Outstanding {
    nonce: String,
    post: PostId,
    sent_at: u64,
}

#[derive(Clone, Debug, Default)]
pub(crate) struct Probe {
    outstanding: Option<Outstanding>,
    last: Option<ProbeOutcome>,
}

impl Probe {
    /// When the probe in flight fails for want of its echo.
    pub(crate) fn deadline(&self) -> Option<u64> {
        let sent_at = self.outstanding.as_ref()?.sent_at;
        Some(sent_at.saturating_add(PROBE_DEADLINE_MS))
    }

    /// The connection ended: the probe in flight, if any, ends with it.
    pub(crate) fn cancel(&mut self) {
        if self.outstanding.take().is_some() {
            self.last = Some(ProbeOutcome::Cancelled);
        }
    }
}

/// A nonce as it goes on the wire: 16 hex digits (a JS number would lose bits of a
/// `u64`; a string is echoed unchanged by any server).
fn nonce_text(mut value: u64) -> String {
    let mut digits = [b'0'; 16];
    for digit in digits.iter_mut().rev() {
        *digit = b"0123456789abcdef"[(value & 0xf) as usize];
        value >>= 4;
    }
    digits.iter().map(|&d| char::from(d)).collect()
}

impl Machine {
    /// How the last probe ended; `None` before any ended.
    pub fn last_probe(&self) -> Option<ProbeOutcome> {
        self.probe.last
    }

    /// Whether a probe is in flight (posted, neither echoed nor failed yet).
    pub fn probe_pending(&self) -> bool {
        self.probe.outstanding.is_some()
    }

    /// Whether the shell hands the core the stream's `_probe` echoes instead of the
    /// app's listener: only with the probe on, so that without it the listener hears
    /// every event as before.
    pub fn takes_probe_echoes(&self) -> bool {
        self.config.foreground_probe
    }

    /// The page came back to the foreground on a connection that looks connected:
    /// post a probe, unless one is in flight already.
    pub(super) fn start_probe(&mut self, now: u64) {
        if self.probe.outstanding.is_some() {
            return;
        }
        let Some(connection_id) = self.connection_id.clone() else {
            return;
        };
        let nonce = nonce_text(self.rng.next_u64());
        let post = self.alloc_post();
        self.flights.push(Flight {
            post,
            generation: self.generation,
            deadline: self.post_deadline(now),
            purpose: Purpose::Probe,
        });
        self.probe.outstanding = Some(Outstanding {
            nonce: nonce.clone(),
            post,
            sent_at: now,
        });
        bump(&mut self.stats.probes_sent);
        self.push(Action::PostProbe {
            id: post,
            connection_id,
            nonce,
        });
    }

    /// A `{type: "_probe", nonce}` event on `stream`: a sign of life, and, when it
    /// echoes the probe in flight before its deadline, the probe's success.
    pub fn on_probe_echo(&mut self, now: u64, stream: StreamId, nonce: &str) {
        if self.phase.stream() != Some(stream) {
            return;
        }
        self.last_activity = now;
        let Some(probe) = &self.probe.outstanding else {
            return;
        };
        let in_time = self.probe.deadline().is_some_and(|deadline| now < deadline);
        if probe.nonce != nonce || !in_time {
            return;
        }
        let round_trip_ms = now.saturating_sub(probe.sent_at);
        self.probe.outstanding = None;
        self.probe.last = Some(ProbeOutcome::Echoed { round_trip_ms });
        // The page suspended its sessions as it was hidden (rule 9): the server sends
        // them nothing until it is asked to replay them.
        if !self.sessions.is_empty() {
            self.request_replay(now);
        }
    }

    /// The answer to probe POST `post`. A 2xx says nothing yet (the echo does); any
    /// other answer fails the probe in flight.
    pub(super) fn on_probe_answer(&mut self, now: u64, post: PostId, outcome: PostOutcome) {
        let current = self.probe.outstanding.as_ref().map(|p| p.post);
        if current == Some(post) && !outcome.is_ok() {
            self.fail_probe(now, ProbeOutcome::PostFailed(outcome));
        }
    }

    /// The stream is taken for dead: rebuilt at once.
    pub(super) fn fail_probe(&mut self, now: u64, outcome: ProbeOutcome) {
        self.probe.outstanding = None;
        self.probe.last = Some(outcome);
        bump(&mut self.stats.probes_failed);
        self.push(Action::Warn(Warning::ProbeFailed));
        self.check_and_reconnect(now, true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonces_are_sixteen_hex_digits_most_significant_first() {
        assert_eq!(nonce_text(0), "0000000000000000");
        assert_eq!(nonce_text(0x1234_abcd), "000000001234abcd");
        assert_eq!(nonce_text(u64::MAX), "ffffffffffffffff");
    }

    #[test]
    fn cancelling_ends_only_a_probe_in_flight() {
        let mut probe = Probe::default();
        probe.cancel();
        assert_eq!(probe.last, None, "nothing was in flight");
        probe.outstanding = Some(Outstanding {
            nonce: "n".into(),
            post: PostId(1),
            sent_at: 5,
        });
        assert_eq!(probe.deadline(), Some(5 + PROBE_DEADLINE_MS));
        probe.cancel();
        assert_eq!(probe.last, Some(ProbeOutcome::Cancelled));
        assert_eq!(probe.deadline(), None);
    }

    #[test]
    fn only_an_echo_is_a_success() {
        assert!(ProbeOutcome::Echoed { round_trip_ms: 3 }.is_ok());
        assert!(!ProbeOutcome::NoEcho.is_ok());
        assert!(!ProbeOutcome::PostFailed(PostOutcome::Status(500)).is_ok());
        assert!(!ProbeOutcome::Cancelled.is_ok());
    }
}
