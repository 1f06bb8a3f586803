//! Connection state: the stream, the welcome, reconnect scheduling, and the browser
//! lifecycle inputs that poke them (docs/delivery-rules.md, rules 1, 7, 8 and 9). The
//! reconnect POST that may follow a welcome lives in `replay`.

use super::action::{Action, Notice};
use super::ids::StreamId;
use super::machine::Machine;
use super::outcome::EventVerdict;
use super::stats::bump;
use alloc::borrow::ToOwned;

/// Where the connection stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Phase {
    /// `connect()` was never called.
    Idle,
    /// A stream is open, waiting for its welcome. `errored`: the stream reported an
    /// error and the browser is retrying it natively.
    Connecting {
        stream: StreamId,
        errored: bool,
    },
    /// Welcomed; the reconnect POST is in flight. Sends are queued.
    Handshaking {
        stream: StreamId,
    },
    Connected {
        stream: StreamId,
    },
    /// No stream; it is reopened at `at`.
    Scheduled {
        at: u64,
    },
    /// `disconnect()`: no stream, no timer.
    Disconnected,
}

impl Phase {
    pub(crate) fn stream(&self) -> Option<StreamId> {
        match *self {
            Phase::Connecting { stream, .. }
            | Phase::Handshaking { stream }
            | Phase::Connected { stream } => Some(stream),
            Phase::Idle | Phase::Scheduled { .. } | Phase::Disconnected => None,
        }
    }
}

impl Machine {
    /// Opens the stream unless one is open already; cancels a pending reconnect timer.
    pub fn connect(&mut self, now: u64) {
        if self.hold_connect() {
            return;
        }
        match self.phase {
            Phase::Idle | Phase::Disconnected => {
                self.reconnect_failures = 0;
                self.open_stream(now);
            }
            Phase::Scheduled { .. } => self.open_stream(now),
            Phase::Connecting { .. } | Phase::Handshaking { .. } | Phase::Connected { .. } => {}
        }
        // Prompts that do not wait for the stream go on at once (rule 15); nothing
        // else may be posted before a welcome.
        self.flush(now);
    }

    /// Closes the stream and cancels the reconnect timer, without `_close`. Queued
    /// messages stay queued; messages waiting on a retry join them. With the
    /// authentication latch, the connection id is forgotten.
    pub fn disconnect(&mut self, _now: u64) {
        self.auth_disconnect();
        self.close_stream();
        self.phase = Phase::Disconnected;
        self.bump_generation();
        while let Some(item) = self.retries.take_any() {
            self.enqueue(item);
        }
    }

    /// The existing client's `checkAndReconnect`: unless connected (and not forced)
    /// or a reconnect is already scheduled, tear the stream down and open a new one.
    pub fn check_and_reconnect(&mut self, now: u64, force: bool) {
        match self.phase {
            _ if self.auth_latched() => {}
            Phase::Connected { .. } if !force => {}
            Phase::Scheduled { .. } => {}
            _ => self.restart_stream(now),
        }
    }

    pub fn on_welcome(&mut self, now: u64, stream: StreamId, connection_id: &str) {
        if self.phase.stream() != Some(stream) {
            return;
        }
        self.last_activity = now;
        self.bump_generation();
        self.connection_id = Some(connection_id.to_owned());
        if self.welcome_needs_replay() {
            self.phase = Phase::Handshaking { stream };
            self.post_reconnect(now);
        } else {
            self.become_connected(now, stream);
        }
        self.welcomed_before = true;
    }

    /// Whether `on_event` reads its `now`: only the stale-stream watchdog
    /// (`stale_after_ms`) needs the time of each event, so without it a shell may skip
    /// reading the clock per event (and pass any `now`).
    pub fn event_time_needed(&self) -> bool {
        self.config.stale_after_ms.is_some()
    }

    /// Tracks the event's seq and says whether to dispatch it
    /// (docs/delivery-rules.md, rule 8). `now` is read only when
    /// `event_time_needed()`.
    pub fn on_event(
        &mut self,
        now: u64,
        stream: StreamId,
        session_id: Option<&str>,
        seq: Option<u64>,
    ) -> EventVerdict {
        if self.phase.stream() != Some(stream) {
            return EventVerdict::Ignored;
        }
        if self.event_time_needed() {
            self.last_activity = now;
        }
        match (session_id, seq) {
            (Some(session), Some(seq)) if !self.sessions.observe(session, seq) => {
                bump(&mut self.stats.duplicates_skipped);
                EventVerdict::Duplicate
            }
            _ => EventVerdict::Dispatch,
        }
    }

    /// An event whose data could not be read: skipped and counted, but still a sign
    /// that the stream is alive.
    pub fn on_malformed_event(&mut self, now: u64, stream: StreamId) {
        bump(&mut self.stats.malformed_events);
        if self.phase.stream() == Some(stream) {
            self.last_activity = now;
        }
    }

    /// `onerror`. The browser retries an erroring stream itself (a new welcome comes
    /// on the same stream); `closed` means it gave up, so the core reopens it later.
    pub fn on_stream_error(&mut self, now: u64, stream: StreamId, closed: bool) {
        if self.phase.stream() != Some(stream) {
            return;
        }
        let was_connected = self.is_connected();
        self.bump_generation();
        if was_connected {
            self.push(Action::Notify(Notice::Close));
        }
        if closed {
            self.schedule_reconnect(now);
        } else {
            self.phase = Phase::Connecting {
                stream,
                errored: true,
            };
        }
        self.ask_auth_check();
    }

    /// Page visible again: reconnect if down (with `foreground_probe`, probe the
    /// connection if it looks connected: rule 23), then `_foreground`; hidden: suspend.
    pub fn on_visibility(&mut self, now: u64, visible: bool) {
        if visible {
            self.check_and_reconnect(now, false);
            if self.config.foreground_probe && self.is_connected() {
                self.start_probe(now);
            }
            self.push(Action::Notify(Notice::Foreground));
        } else {
            // A hidden page may be killed without another word: nothing held back.
            self.release_removals();
            self.suspend(now, true);
        }
    }

    pub fn on_page_hide(&mut self, now: u64) {
        self.release_removals();
        self.suspend(now, true);
    }

    /// `pageshow`; `persisted` means the page came back from the bfcache. With
    /// `foreground_probe` such a page rebuilds even a stream that looks connected: it
    /// was frozen for who knows how long (rule 23).
    pub fn on_page_show(&mut self, now: u64, persisted: bool) {
        if persisted {
            self.check_and_reconnect(now, self.config.foreground_probe);
        }
    }

    /// The network is back: reopen now instead of waiting for a scheduled reconnect
    /// or for the browser's retry of an erroring stream.
    pub fn on_online(&mut self, now: u64) {
        match self.phase {
            Phase::Scheduled { .. } => {
                bump(&mut self.stats.reconnects);
                self.open_stream(now);
            }
            Phase::Connecting { errored: true, .. } => self.restart_stream(now),
            _ => {}
        }
    }

    /// Rebuilds the stream (`checkAndReconnect(true)`), with `_close` if connected.
    pub(super) fn restart_stream(&mut self, now: u64) {
        let was_connected = self.is_connected();
        self.close_stream();
        if was_connected {
            self.push(Action::Notify(Notice::Close));
        }
        bump(&mut self.stats.reconnects);
        self.open_stream(now);
    }

    /// The reconnect timer fired.
    pub(super) fn reopen_after_delay(&mut self, now: u64) {
        bump(&mut self.stats.reconnects);
        self.open_stream(now);
    }

    fn open_stream(&mut self, now: u64) {
        let stream = self.alloc_stream();
        self.bump_generation();
        self.phase = Phase::Connecting {
            stream,
            errored: false,
        };
        self.last_activity = now;
        bump(&mut self.stats.streams_opened);
        self.push(Action::OpenStream(stream));
    }

    pub(super) fn close_stream(&mut self) {
        if let Some(stream) = self.phase.stream() {
            self.push(Action::CloseStream(stream));
        }
        self.forget_held();
    }

    /// Closes the stream and reopens it after a delay: exactly `reconnect_delay_ms`
    /// the first time (as the existing client), then growing with the backoff.
    pub(super) fn schedule_reconnect(&mut self, now: u64) {
        self.close_stream();
        self.bump_generation();
        self.reconnect_failures = self.reconnect_failures.saturating_add(1);
        let delay = match self.reconnect_failures {
            0 | 1 => self.config.reconnect_delay_ms,
            n => {
                let jitter = self.config.retry_jitter;
                self.config.backoff.delay_of(n - 1, jitter, &mut self.rng)
            }
        };
        self.phase = Phase::Scheduled {
            at: now.saturating_add(delay),
        };
    }

    pub(super) fn become_connected(&mut self, now: u64, stream: StreamId) {
        self.phase = Phase::Connected { stream };
        self.reconnect_failures = 0;
        self.flush(now);
        self.push(Action::Notify(Notice::Open));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::config::Config;

    fn generation_after(steps: impl FnOnce(&mut Machine)) -> (u32, u32) {
        let mut m = Machine::new(Config::default(), 1);
        m.connect(0);
        let stream = m.current_stream().unwrap_or(StreamId(0));
        m.on_welcome(0, stream, "c1");
        let before = m.generation;
        steps(&mut m);
        (before, m.generation)
    }

    #[test]
    fn every_connection_ending_transition_bumps_the_generation() {
        let transitions: [fn(&mut Machine); 5] = [
            |m| m.check_and_reconnect(0, true),
            |m| m.disconnect(0),
            |m| m.on_stream_error(0, StreamId(1), false),
            |m| m.on_stream_error(0, StreamId(1), true),
            |m| m.on_welcome(0, StreamId(1), "c2"),
        ];
        for transition in transitions {
            let (before, after) = generation_after(transition);
            assert_ne!(before, after);
        }
    }

    #[test]
    fn inputs_that_keep_the_connection_keep_the_generation() {
        let (before, after) = generation_after(|m| {
            m.check_and_reconnect(0, false);
            m.on_event(0, StreamId(1), Some("s"), Some(1));
            m.on_malformed_event(0, StreamId(1));
            m.on_stream_error(0, StreamId(99), false);
        });
        assert_eq!(before, after);
    }

    #[test]
    fn event_times_are_needed_only_by_the_stale_stream_watchdog() {
        let machine = |stale_after_ms| {
            let config = Config {
                stale_after_ms,
                ..Config::default()
            };
            Machine::new(config, 1)
        };
        assert!(
            !machine(None).event_time_needed(),
            "the shell skips the clock"
        );
        assert!(machine(Some(30_000)).event_time_needed());
    }

    #[test]
    fn only_open_phases_have_a_stream() {
        let stream = StreamId(3);
        assert_eq!(Phase::Connected { stream }.stream(), Some(stream));
        assert_eq!(Phase::Handshaking { stream }.stream(), Some(stream));
        assert_eq!(Phase::Scheduled { at: 5 }.stream(), None);
        assert_eq!(Phase::Idle.stream(), None);
        assert_eq!(Phase::Disconnected.stream(), None);
    }
}
