//! The connection's one host timer: a `gloo_timers` `Timeout` armed at the core's
//! earliest deadline (`poll_timeout`), replaced only when that deadline moves, cleared
//! when dropped (with the shell, or when the core wants no wake-up).

use gloo_timers::callback::Timeout;

/// The deadline the timer is armed at, and the armed `Timeout` (dropping it clears it).
#[derive(Default)]
pub struct HostTimer {
    armed: Option<(u64, Timeout)>,
}

/// `setTimeout` takes a signed 32-bit delay and fires at once past it: a later deadline
/// is woken at this bound, and the core simply asks again.
const LONGEST_DELAY_MS: u64 = i32::MAX as u64;

impl HostTimer {
    /// Whether the timer is armed at `deadline` already (`None`: disarmed).
    pub fn is_at(&self, deadline: Option<u64>) -> bool {
        self.armed.as_ref().map(|(at, _)| *at) == deadline
    }

    /// Arms the timer at `deadline` (`now` being the time), `fire` running when it
    /// comes; `None` disarms it. Whatever was armed is cleared.
    pub fn arm(&mut self, deadline: Option<u64>, now: u64, fire: impl FnOnce() + 'static) {
        self.armed = deadline.map(|at| {
            let delay = at.saturating_sub(now).min(LONGEST_DELAY_MS);
            (at, Timeout::new(delay as u32, fire))
        });
    }

    /// The timer fired: it is disarmed, and its deadline is handed back.
    pub fn fired(&mut self) -> Option<u64> {
        // The fired `Timeout`'s clearTimeout is a no-op; dropping it frees its closure.
        self.armed.take().map(|(at, _)| at)
    }
}
