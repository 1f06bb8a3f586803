//! Whose a stored entry is: the names of one outbox's entries, Web Locks and channel.
//!
//! An outbox is the app's `persist.key` (its namespace). Web Storage and an app's own
//! store are one flat space that the outboxes of several keys share (two signed-in
//! users on one device), so an entry's name says whose it is:
//! `sse-courier:<namespace>:<clientMsgId>`, the `clientMsgId` with `%` and `:` escaped
//! as `%25` and `%3A`. The last `:` of a name then ends its namespace, so no two
//! outboxes share a name (namespaces `chat` and `chat:42` included), and a page reads
//! back only names of its own namespace. A message sent as the wrong user is the worst
//! thing this package could do, which is why this is a decision of the core, tested
//! here, and not the shell's string handling.
//!
//! Version 0.1.0 did not escape (in Web Storage) and did not prefix at all (in an
//! app's store). Its Web Storage entries are still read back by their own namespace,
//! since a record's own `key` says whose it is, and renamed on the way; its app-store
//! entries cannot be told apart by namespace and are left where they are
//! (docs/api.md, "Upgrading from 0.1.0").

use alloc::string::String;

/// What every name of the persisted outbox starts with.
const PREFIX: &str = "sse-courier:";

/// What the name of an outbox kept as one value starts with: not [`PREFIX`], so that
/// it is never taken for an entry of any outbox (a namespace may hold `:`).
const SINGLE_VALUE_PREFIX: &str = "sse-courier-outbox:";

/// Where the entries being read were written, which decides how 0.1.0 named them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// `localStorage` / `sessionStorage`: 0.1.0 named an entry
    /// `sse-courier:<namespace>:<clientMsgId>` with the `clientMsgId` unescaped.
    WebStorage,
    /// An app's own store: 0.1.0 named an entry by its `clientMsgId` alone.
    AppStore,
}

/// Whose an entry of a shared store is, as seen by one outbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Whose {
    /// This outbox's entry, holding the record of `key`. `rename`: it is under the
    /// name 0.1.0 gave it, not [`OutboxNames::entry`]`(key)`; the shell renames it so
    /// that every later write and removal of `key` finds it.
    Ours { key: String, rename: bool },
    /// An entry 0.1.0 wrote into an app's store under its `clientMsgId` alone: this
    /// page cannot tell whose it is, so it is left in the store, unsent, with a
    /// warning.
    Unkeyed,
    /// Another outbox's entry, or no outbox's at all.
    NotOurs,
}

/// The names of one outbox (one `persist.key`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboxNames {
    /// `sse-courier:<namespace>:`, the start of every name of this outbox.
    prefix: String,
}

impl OutboxNames {
    pub fn new(namespace: &str) -> OutboxNames {
        OutboxNames {
            prefix: [PREFIX, namespace, ":"].concat(),
        }
    }

    /// The IndexedDB database of this outbox, `sse-courier:<namespace>` (a database
    /// holds one outbox, so its entries are named by their key alone).
    pub fn database(&self) -> &str {
        self.prefix.strip_suffix(':').unwrap_or(&self.prefix)
    }

    /// The one name under which a store without enumeration (the app's
    /// `outboxStorage`, `getItem` / `setItem` only) keeps this whole outbox:
    /// `sse-courier-outbox:<namespace>`.
    pub fn single_value(&self) -> String {
        let namespace = self.database().strip_prefix(PREFIX).unwrap_or_default();
        [SINGLE_VALUE_PREFIX, namespace].concat()
    }

    /// The name of the entry holding the record of `key` in a shared store.
    pub fn entry(&self, key: &str) -> String {
        [&self.prefix, &*escape(key)].concat()
    }

    /// Whether `name` may be an entry of this outbox (it starts like one): the
    /// shell reads only such entries of a Web Storage.
    pub fn may_be_entry(&self, name: &str) -> bool {
        name.starts_with(&self.prefix)
    }

    /// The key `name` holds when it is an entry of this outbox as this version names
    /// entries ([`OutboxNames::entry`]), else `None`.
    pub fn key_of(&self, name: &str) -> Option<String> {
        let escaped = name.strip_prefix(self.prefix.as_str())?;
        let key = unescape(escaped);
        // Only the one spelling `entry` writes: `%41` or an unescaped `:` is no key's.
        (escape(&key) == escaped).then_some(key)
    }

    /// Whose the entry `name` of a store with `layout` is, `record_key` being the
    /// `key` field of the record it holds (`None` when it holds no record with one).
    pub fn whose(&self, name: &str, record_key: Option<&str>, layout: Layout) -> Whose {
        let key = self.key_of(name);
        // A record whose key is not the one its name says: 0.1.0 may have named it.
        if let Some(own) = record_key.filter(|own| key.as_deref() != Some(*own)) {
            match layout {
                Layout::WebStorage => {
                    // 0.1.0's unescaped name in this outbox: the record says which key.
                    if name.strip_prefix(self.prefix.as_str()) == Some(own) {
                        return Whose::Ours {
                            key: own.into(),
                            rename: true,
                        };
                    }
                    // 0.1.0's unescaped name in another outbox (`chat` with key
                    // `m:1`, seen from `chat:m`, which would read it as key `1`).
                    if name
                        .strip_suffix(own)
                        .is_some_and(|start| start.ends_with(':'))
                    {
                        return Whose::NotOurs;
                    }
                }
                Layout::AppStore => {
                    if key.is_none() && name == own && !name.starts_with(PREFIX) {
                        return Whose::Unkeyed;
                    }
                }
            }
        }
        // Any other record that does not match its name is the core's to judge
        // (`Machine::restore`: unreadable, left alone with a warning).
        match key {
            Some(key) => Whose::Ours { key, rename: false },
            None => Whose::NotOurs,
        }
    }

    /// The owner Web Lock of the page load `owner`, held for the page's life.
    pub fn owner_lock(&self, owner: &str) -> String {
        [&self.prefix, "owner:", owner].concat()
    }

    /// The owner id whose owner lock `lock` is, when it is one of this outbox's.
    pub fn owner_of_lock<'a>(&self, lock: &'a str) -> Option<&'a str> {
        lock.strip_prefix(self.prefix.as_str())?
            .strip_prefix("owner:")
    }

    /// The Web Lock inside which a page reads the store back and claims records.
    pub fn restore_lock(&self) -> String {
        [&self.prefix, "restore"].concat()
    }

    /// The `BroadcastChannel` on which the pages of this outbox announce themselves.
    pub fn owners_channel(&self) -> String {
        [&self.prefix, "owners"].concat()
    }
}

/// `key` with `%` and `:` escaped as `%25` and `%3A`: no `:` is left, so the last
/// `:` of an entry's name ends its namespace.
fn escape(key: &str) -> String {
    let mut escaped = String::with_capacity(key.len());
    for c in key.chars() {
        match c {
            '%' => escaped.push_str("%25"),
            ':' => escaped.push_str("%3A"),
            c => escaped.push(c),
        }
    }
    escaped
}

/// `escaped` with `%25` and `%3A` turned back into `%` and `:`, left to right (any
/// other `%` is kept). No indexing into the string: a slice's bounds check would
/// bring the panic's formatting into the wasm.
fn unescape(escaped: &str) -> String {
    let mut key = String::with_capacity(escaped.len());
    let mut rest = escaped;
    while let Some((before, after)) = rest.split_once('%') {
        key.push_str(before);
        rest = match (after.strip_prefix("25"), after.strip_prefix("3A")) {
            (Some(after), _) => {
                key.push('%');
                after
            }
            (_, Some(after)) => {
                key.push(':');
                after
            }
            _ => {
                key.push('%');
                after
            }
        };
    }
    key.push_str(rest);
    key
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use alloc::vec::Vec;

    const NAMESPACES: [&str; 7] = [
        "default",
        "chat",
        "chat:42",
        "chat:",
        "chat%3A42",
        "a:b:c",
        "%",
    ];
    const KEYS: [&str; 10] = [
        "m1",
        "42:m1",
        ":",
        "%3A",
        "%",
        "%25",
        "a%b",
        "x:y:z",
        "",
        "uuid-0f8c",
    ];

    #[test]
    fn no_two_outboxes_entries_share_a_name_and_a_name_reads_back_in_its_own_outbox_only() {
        let mut seen: Vec<(String, &str, &str)> = Vec::new();
        for namespace in NAMESPACES {
            for key in KEYS {
                let name = OutboxNames::new(namespace).entry(key);
                if let Some((_, n, k)) = seen.iter().find(|(other, ..)| *other == name) {
                    panic!("{name} is both {n} / {k} and {namespace} / {key}");
                }
                seen.push((name.clone(), namespace, key));
                for reader in NAMESPACES {
                    let expected = (reader == namespace).then(|| key.to_string());
                    assert_eq!(
                        OutboxNames::new(reader).key_of(&name),
                        expected,
                        "{reader} reads {name}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_key_without_colon_or_percent_is_its_own_name_as_version_0_1_0_wrote_it() {
        let names = OutboxNames::new("chat");
        assert_eq!(names.entry("0f8c-uuid"), "sse-courier:chat:0f8c-uuid");
        assert_eq!(names.entry("m:1%"), "sse-courier:chat:m%3A1%25");
    }

    #[test]
    fn only_the_one_spelling_the_outbox_writes_is_an_entry() {
        let names = OutboxNames::new("chat");
        assert_eq!(names.key_of("sse-courier:chat:%3A%25"), Some(":%".into()));
        // Escapes of other characters, a lone `%`, lower case, an unescaped `:`.
        for name in [
            "sse-courier:chat:%41",
            "sse-courier:chat:a%",
            "sse-courier:chat:%3a",
            "sse-courier:chat:m:1",
        ] {
            assert_eq!(names.key_of(name), None, "{name}");
        }
        assert_eq!(names.key_of("sse-courier:chat"), None);
        assert_eq!(names.key_of("sse-courier:chat:"), Some("".into()));
        assert_eq!(names.key_of("another-app"), None);
    }

    #[test]
    fn an_entry_whose_record_agrees_with_its_name_is_ours_in_every_layout() {
        let names = OutboxNames::new("chat");
        for layout in [Layout::WebStorage, Layout::AppStore] {
            let ours = Whose::Ours {
                key: "m:1".into(),
                rename: false,
            };
            assert_eq!(
                names.whose("sse-courier:chat:m%3A1", Some("m:1"), layout),
                ours
            );
            // No record to ask (unparsable): the name decides, the core judges it.
            let ours = Whose::Ours {
                key: "m-2".into(),
                rename: false,
            };
            assert_eq!(names.whose("sse-courier:chat:m-2", None, layout), ours);
            assert_eq!(
                names.whose("sse-courier:other:m-2", None, layout),
                Whose::NotOurs
            );
            assert_eq!(names.whose("not-ours", Some("x"), layout), Whose::NotOurs);
        }
    }

    #[test]
    fn a_record_that_does_not_match_its_own_outbox_name_is_left_for_the_core_to_judge() {
        let names = OutboxNames::new("chat");
        let ours = Whose::Ours {
            key: "a".into(),
            rename: false,
        };
        assert_eq!(
            names.whose("sse-courier:chat:a", Some("b"), Layout::WebStorage),
            ours
        );
        assert_eq!(
            names.whose("sse-courier:chat:a", Some("b"), Layout::AppStore),
            ours
        );
    }

    #[test]
    fn version_0_1_0_web_storage_names_are_read_back_by_their_own_outbox_alone_and_renamed() {
        let name = "sse-courier:chat:m:1";
        let renamed = Whose::Ours {
            key: "m:1".into(),
            rename: true,
        };
        assert_eq!(
            OutboxNames::new("chat").whose(name, Some("m:1"), Layout::WebStorage),
            renamed
        );
        assert_eq!(
            OutboxNames::new("chat").entry("m:1"),
            "sse-courier:chat:m%3A1"
        );
        // "chat:m" would read that name as its key "1": it is not its entry.
        let shorter = OutboxNames::new("chat:m");
        assert_eq!(shorter.key_of(name), Some("1".into()));
        assert_eq!(
            shorter.whose(name, Some("m:1"), Layout::WebStorage),
            Whose::NotOurs
        );
        // A key that only looks escaped was written as it is.
        let escaped_looking = Whose::Ours {
            key: "%3A".into(),
            rename: true,
        };
        let names = OutboxNames::new("chat");
        assert_eq!(
            names.whose("sse-courier:chat:%3A", Some("%3A"), Layout::WebStorage),
            escaped_looking
        );
        // In an app store 0.1.0 never wrote such names: the name decides.
        let by_name = Whose::Ours {
            key: "1".into(),
            rename: false,
        };
        assert_eq!(shorter.whose(name, Some("m:1"), Layout::AppStore), by_name);
        assert_eq!(
            names.whose(name, Some("m:1"), Layout::AppStore),
            Whose::NotOurs
        );
    }

    #[test]
    fn version_0_1_0_app_store_entries_named_by_their_key_alone_are_nobodys() {
        let names = OutboxNames::new("chat");
        assert_eq!(
            names.whose("old-1", Some("old-1"), Layout::AppStore),
            Whose::Unkeyed
        );
        // Only where the record's key is the whole name, and not an outbox's name.
        assert_eq!(
            names.whose("old-1", Some("old-2"), Layout::AppStore),
            Whose::NotOurs
        );
        assert_eq!(names.whose("old-1", None, Layout::AppStore), Whose::NotOurs);
        let theirs = "sse-courier:other:k";
        assert_eq!(
            names.whose(theirs, Some(theirs), Layout::AppStore),
            Whose::NotOurs
        );
        // Web Storage: 0.1.0 always prefixed there.
        assert_eq!(
            names.whose("old-1", Some("old-1"), Layout::WebStorage),
            Whose::NotOurs
        );
    }

    #[test]
    fn locks_channel_and_database_are_named_after_the_outbox() {
        let names = OutboxNames::new("chat:42");
        assert_eq!(names.database(), "sse-courier:chat:42");
        assert_eq!(
            names.owner_lock("page-a"),
            "sse-courier:chat:42:owner:page-a"
        );
        assert_eq!(names.restore_lock(), "sse-courier:chat:42:restore");
        assert_eq!(names.owners_channel(), "sse-courier:chat:42:owners");
        assert_eq!(
            names.owner_of_lock("sse-courier:chat:42:owner:page-a"),
            Some("page-a")
        );
        assert_eq!(names.owner_of_lock("sse-courier:chat:42:restore"), None);
        assert_eq!(names.owner_of_lock("sse-courier:chat:owner:page-a"), None);
        assert_eq!(names.owner_of_lock("sse-courier/tabs/3 chat"), None);
        assert!(names.may_be_entry("sse-courier:chat:42:m"));
        assert!(!names.may_be_entry("sse-courier:chat:4"));
    }

    // proptest is a native dev-dependency (the wasm build compiles these tests too).
    #[cfg(not(target_arch = "wasm32"))]
    proptest::proptest! {
        /// Entry names are injective over (namespace, key), and a name reads back as
        /// its key in its own outbox only, whatever the two hold (`%` and `:` often).
        #[test]
        fn entry_names_are_injective_and_read_back_in_their_own_outbox_only(
            a in ("[a:%3A2b5]{0,6}", "[a:%3A2b5]{0,6}"),
            b in ("[a:%3A2b5]{0,6}", "[a:%3A2b5]{0,6}"),
        ) {
            let (names_a, names_b) = (OutboxNames::new(&a.0), OutboxNames::new(&b.0));
            let (name_a, name_b) = (names_a.entry(&a.1), names_b.entry(&b.1));
            proptest::prop_assert_eq!(name_a == name_b, a == b);
            proptest::prop_assert_eq!(names_a.key_of(&name_a), Some(a.1.clone()));
            let read = names_b.key_of(&name_a);
            proptest::prop_assert_eq!(read, (a.0 == b.0).then(|| a.1.clone()));
            for layout in [Layout::WebStorage, Layout::AppStore] {
                let whose = names_b.whose(&name_a, Some(&a.1), layout);
                let expected = if a.0 == b.0 {
                    Whose::Ours { key: a.1.clone(), rename: false }
                } else {
                    Whose::NotOurs
                };
                proptest::prop_assert_eq!(whose, expected);
            }
        }
    }

    #[test]
    fn an_outbox_kept_as_one_value_is_named_apart_from_every_entry() {
        let chat = OutboxNames::new("chat");
        assert_eq!(chat.single_value(), "sse-courier-outbox:chat");
        assert_eq!(
            OutboxNames::new("a:b").single_value(),
            "sse-courier-outbox:a:b"
        );
        assert_ne!(
            OutboxNames::new("sse-courier:x").single_value(),
            OutboxNames::new("x").single_value()
        );
        let name = chat.single_value();
        assert!(!chat.may_be_entry(&name));
        assert_eq!(
            OutboxNames::new("").whose(&name, None, Layout::WebStorage),
            Whose::NotOurs
        );
    }
}
