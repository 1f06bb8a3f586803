//! Identifiers the core hands to the shell: one per message, stream and POST.
//!
//! The core allocates all three from increasing counters, so ordering by id is
//! ordering by creation; the shell only uses them as keys.

/// A message the app sent. The shell keeps its JSON body under this id until the
/// core reports the message's fate; ids increase in send order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MsgId(pub u32);

/// One `EventSource` object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StreamId(pub u32);

/// One `fetch` POST in flight.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PostId(pub u32);

/// A chained event the core asked the shell to keep (held for a gap or a snapshot
/// offer) or to hand to the listener; the shell keeps the event under this id until
/// the core says `Apply` or `Discard`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventKey(pub u32);
