//! Counters for diagnostics; they never steer behaviour.

/// What the core has seen and done since construction. Counters saturate.
///
/// Serialised, it is the app's `ConnectionStats` (`stats()`): each counter under its
/// field's name in camelCase, so that no counter can be handed over under another's.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    /// Streams the core set out to open (each `Action::OpenStream`), the first
    /// included, whether or not the stream ever opened: counted when it is asked
    /// for, so an attempt that failed before its welcome, or whose EventSource could
    /// not be made, counts too. A follower tab counts its virtual streams.
    pub streams_opened: u32,
    /// Streams the core rebuilt or reopened itself (`check_and_reconnect`, 404,
    /// watchdog, reconnect timer, `online`).
    pub reconnects: u32,
    pub reconnect_posts: u32,
    pub reconnect_post_failures: u32,
    /// Events not dispatched because their seq was not newer (docs/delivery-rules.md,
    /// rule 8).
    pub duplicates_skipped: u32,
    pub malformed_events: u32,
    /// POSTs answered 404 (messages, suspends and reconnects).
    pub stale_404s: u32,
    /// Retries scheduled after 5xx/429/network errors/timeouts.
    pub send_retries: u32,
    pub post_timeouts: u32,
    /// POST answers (timeouts included) that came after the connection the POST was
    /// sent on was replaced; they settle the message but change no connection state.
    pub late_answers: u32,
    /// Streams rebuilt by the heartbeat watchdog.
    pub stale_streams: u32,
    pub delivered: u32,
    /// Reported dropped, records expired at restore included.
    pub dropped: u32,
    pub failed: u32,
    /// Stored messages taken back by `restore` (docs/persisted-outbox.md).
    pub restored: u32,
    /// Stored messages dropped at restore for being older than `max_age_ms`.
    pub expired: u32,
    /// Foreground probes posted (`foreground_probe`, docs/delivery-rules.md, rule 23).
    pub probes_sent: u32,
    /// Probes that failed (no echo in time, or their POST failed): each rebuilt the
    /// stream.
    pub probes_failed: u32,
    /// Streams rebuilt to ask for events again from the applied cursors: a gap not
    /// filled in time, too many events held, a refused event or an offer not applied
    /// (`applied_events`; docs/delivery-rules.md, rules 20 to 22).
    pub resyncs: u32,
    /// Acknowledgements of applied events posted.
    pub acks_posted: u32,
    /// Acknowledgements that failed or timed out (each rebuilt the stream).
    pub ack_failures: u32,
    /// Reconnect snapshots the server confirmed applied.
    pub snapshots_applied: u32,
    /// Reported uncertain: posted when authentication was lost (rule 24).
    pub uncertain: u32,
    /// Times authentication was latched (rule 24).
    pub auth_losses: u32,
}

/// `*counter += 1`, saturating: counters must never make the core panic.
pub(crate) fn bump(counter: &mut u32) {
    *counter = counter.saturating_add(1);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bump_saturates_instead_of_overflowing() {
        let mut n = u32::MAX - 1;
        bump(&mut n);
        bump(&mut n);
        assert_eq!(n, u32::MAX);
    }
}
