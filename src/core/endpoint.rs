//! The POST endpoints of protocol v2, their names on the wire, and sets of them.

/// A `POST {baseUrl}/api/chat/{path}` endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Endpoint {
    Send,
    Stop,
    Interrupt,
    Permission,
    Mode,
    Watch,
    Unwatch,
    Switch,
    Suspend,
    Close,
    Reconnect,
}

/// Every endpoint with its message `type` and its path, in declaration order: the one
/// table that maps message type, endpoint and path to each other.
const TABLE: [(Endpoint, &str, &str); 11] = [
    (Endpoint::Send, "send", "send"),
    (Endpoint::Stop, "stop", "stop"),
    (Endpoint::Interrupt, "interrupt", "interrupt"),
    (Endpoint::Permission, "permission_response", "permission"),
    (Endpoint::Mode, "set_mode", "mode"),
    (Endpoint::Watch, "watch", "watch"),
    (Endpoint::Unwatch, "unwatch", "unwatch"),
    (Endpoint::Switch, "switch_session", "switch"),
    (Endpoint::Suspend, "session_suspend", "suspend"),
    (Endpoint::Close, "session_close", "close"),
    (Endpoint::Reconnect, "reconnect", "reconnect"),
];

impl Endpoint {
    /// The endpoint a message `type` is posted to; `None` for unknown types, which
    /// `send()` refuses.
    pub fn from_message_type(t: &str) -> Option<Endpoint> {
        TABLE.iter().find(|row| row.1 == t).map(|row| row.0)
    }

    /// The paths of the endpoints that may be retried, and of the lifecycle ones that
    /// never are, in declaration order: for the shell's errors, which list them. Text
    /// rather than built from `TABLE` at run time, which costs the shipped wasm about
    /// 0.7 KB gzip; a test checks them against `TABLE`.
    pub const RETRYABLE_PATHS: &'static str = "send, interrupt, permission, mode, watch, switch";
    pub const LIFECYCLE_PATHS: &'static str = "stop, unwatch, suspend, close, reconnect";

    /// The endpoint whose path segment is `p` (as named in `retryableEndpoints`).
    pub fn from_path(p: &str) -> Option<Endpoint> {
        TABLE.iter().find(|row| row.2 == p).map(|row| row.0)
    }

    /// The path segment after `/api/chat/`.
    pub fn path(self) -> &'static str {
        // The table lists the endpoints in declaration order (tested below).
        TABLE[self as usize].2
    }

    /// Lifecycle and fire-and-forget signals belong to the connection they were sent
    /// on: replaying them on a later connection would be wrong (a stale suspend), so
    /// they are never retried, whatever the retryable set says
    /// (docs/delivery-rules.md, rule 3).
    pub fn is_lifecycle(self) -> bool {
        matches!(
            self,
            Endpoint::Suspend
                | Endpoint::Close
                | Endpoint::Unwatch
                | Endpoint::Stop
                | Endpoint::Reconnect
        )
    }

    fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

/// A set of endpoints, as a bitset.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct EndpointSet(u16);

impl EndpointSet {
    /// No endpoint.
    pub const fn empty() -> Self {
        EndpointSet(0)
    }

    /// The default allowlist of retryable endpoints: `{Send}`.
    pub fn default_retryable() -> Self {
        let mut set = Self::empty();
        set.insert(Endpoint::Send);
        set
    }

    pub fn insert(&mut self, e: Endpoint) {
        self.0 |= e.bit();
    }

    pub fn remove(&mut self, e: Endpoint) {
        self.0 &= !e.bit();
    }

    pub fn contains(&self, e: Endpoint) -> bool {
        self.0 & e.bit() != 0
    }

    pub fn is_empty(&self) -> bool {
        self.0 == 0
    }
}

/// An endpoint is written as its path (`"send"`), as the protocol names it.
impl serde::Serialize for Endpoint {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.path())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_message_type_maps_to_its_wire_path() {
        let pairs = [
            ("send", "send"),
            ("stop", "stop"),
            ("interrupt", "interrupt"),
            ("permission_response", "permission"),
            ("set_mode", "mode"),
            ("watch", "watch"),
            ("unwatch", "unwatch"),
            ("switch_session", "switch"),
            ("session_suspend", "suspend"),
            ("session_close", "close"),
            ("reconnect", "reconnect"),
        ];
        for (message_type, path) in pairs {
            let endpoint = Endpoint::from_message_type(message_type);
            assert_eq!(endpoint.map(Endpoint::path), Some(path), "{message_type}");
            assert_eq!(Endpoint::from_path(path), endpoint);
        }
    }

    #[test]
    fn unknown_message_types_and_paths_have_no_endpoint() {
        assert_eq!(Endpoint::from_message_type("unknown_garbage"), None);
        assert_eq!(Endpoint::from_message_type("permission"), None);
        assert_eq!(Endpoint::from_path("permission_response"), None);
        assert_eq!(Endpoint::from_path(""), None);
    }

    #[test]
    fn table_lists_every_endpoint_once_in_declaration_order() {
        for (i, (endpoint, _, path)) in TABLE.into_iter().enumerate() {
            assert_eq!(endpoint as usize, i);
            assert_eq!(endpoint.path(), path);
        }
    }

    #[test]
    fn lifecycle_endpoints_are_exactly_the_never_retried_ones() {
        let lifecycle: Vec<Endpoint> = TABLE
            .iter()
            .map(|row| row.0)
            .filter(|e| e.is_lifecycle())
            .collect();
        assert_eq!(
            lifecycle,
            [
                Endpoint::Stop,
                Endpoint::Unwatch,
                Endpoint::Suspend,
                Endpoint::Close,
                Endpoint::Reconnect
            ]
        );
    }

    #[test]
    fn the_listed_paths_are_those_of_the_table() {
        let paths = |lifecycle: bool| {
            TABLE
                .iter()
                .filter(|row| row.0.is_lifecycle() == lifecycle)
                .map(|row| row.2)
                .collect::<Vec<_>>()
                .join(", ")
        };
        assert_eq!(Endpoint::RETRYABLE_PATHS, paths(false));
        assert_eq!(Endpoint::LIFECYCLE_PATHS, paths(true));
    }

    #[test]
    fn default_retryable_set_holds_only_send() {
        let set = EndpointSet::default_retryable();
        for (endpoint, _, _) in TABLE {
            assert_eq!(set.contains(endpoint), endpoint == Endpoint::Send);
        }
    }

    #[test]
    fn set_insert_and_remove_touch_one_member() {
        let mut set = EndpointSet::empty();
        assert!(set.is_empty());
        set.insert(Endpoint::Watch);
        set.insert(Endpoint::Reconnect);
        assert!(set.contains(Endpoint::Watch) && set.contains(Endpoint::Reconnect));
        set.remove(Endpoint::Watch);
        assert!(!set.contains(Endpoint::Watch) && set.contains(Endpoint::Reconnect));
        assert!(!set.is_empty());
        set.remove(Endpoint::Reconnect);
        assert!(set.is_empty());
    }
}
