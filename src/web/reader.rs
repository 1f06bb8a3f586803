//! The serde `Deserializer` that reads the app's config object into `Options`
//! (`options.rs`), and the errors it gives.
//!
//! serde-wasm-bindgen's own deserializer reads structs too, but its errors are serde's
//! (formatted, about Rust types rather than options), a getter that throws would throw
//! through the wasm, and it cannot say which keys it did not read. This one, for each
//! struct serde asks for (the fields' names are serde's, so the struct's own):
//! - reads every field (`Reflect.get`; a getter that throws counts as absent, as does
//!   `undefined` or `null`), in the struct's order, handing each value to its field's
//!   type, and names the option around a refusal (`config.<path> <refusal>`);
//! - then warns of each other key, once per option path per page: never an error, as
//!   an app moving over from the existing client may pass that client's later options.
//!
//! Messages are built by concatenation: formatting (`core::fmt`) stays out of them.

use alloc::string::String;
use alloc::vec::Vec;
use core::cell::RefCell;

use serde::de::value::{BorrowedStrDeserializer, U32Deserializer};
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Unexpected, Visitor};
use wasm_bindgen::convert::IntoWasmAbi;
use wasm_bindgen::prelude::*;

use super::js;
use crate::core::Endpoint;

/// Why the config is refused: each variant's message (`message`) names the option.
#[derive(Debug)]
pub enum ConfigError {
    /// The config is no object.
    NotAnObject,
    /// The option at `path` (`backoff.initialMs`) refused by its kind or by this
    /// build: `config.<path> <refusal>`.
    Refused { path: String, refusal: &'static str },
    /// `retryableEndpoints` names what is not an endpoint; `message_type_of` is the
    /// endpoint when it is the message type posted to one.
    NotAnEndpoint {
        name: String,
        message_type_of: Option<Endpoint>,
    },
    /// `retryableEndpoints` names a lifecycle endpoint (never retried).
    LifecycleEndpoint { name: String },
    /// `backoff.maxMs` below `backoff.initialMs`, each as given or its default.
    BackoffBelowInitial { max: Setting, initial: Setting },
    /// A kind's refusal before the reader has named the option (it never leaves the
    /// reader: see `Fields::next_value_seed`).
    Unnamed(&'static str),
}

/// A setting's value and whether the app gave it (else it is the default).
#[derive(Debug, Clone, Copy)]
pub struct Setting {
    pub ms: u64,
    pub given: bool,
}

impl ConfigError {
    /// The text of the `Error` thrown to the app.
    pub fn message(&self) -> String {
        let mut text = String::from("config");
        match self {
            ConfigError::NotAnObject => text.push_str(" must be an object with a baseUrl"),
            ConfigError::Refused { path, refusal } => {
                push(&mut text, &[".", path, " ", refusal]);
            }
            ConfigError::Unnamed(refusal) => push(&mut text, &[" ", refusal]),
            ConfigError::NotAnEndpoint {
                name,
                message_type_of,
            } => {
                push(
                    &mut text,
                    &[".retryableEndpoints must name endpoints, and \""],
                );
                push(&mut text, &[name, "\" is not one"]);
                // A message type (`permission_response`) given where its endpoint
                // (`permission`) was meant: the error names that endpoint.
                if let Some(endpoint) = message_type_of {
                    let path = endpoint.path();
                    push(
                        &mut text,
                        &[" (it is the message type posted to \"", path, "\")"],
                    );
                }
                push(&mut text, &["; it may name ", Endpoint::RETRYABLE_PATHS]);
            }
            ConfigError::LifecycleEndpoint { name } => {
                push(&mut text, &[".retryableEndpoints must not name \"", name]);
                push(&mut text, &["\" (the lifecycle endpoints "]);
                push(
                    &mut text,
                    &[Endpoint::LIFECYCLE_PATHS, " are never retried)"],
                );
                push(&mut text, &["; it may name ", Endpoint::RETRYABLE_PATHS]);
            }
            // The error says which value is a default: an app that set only one of
            // them never wrote the other.
            ConfigError::BackoffBelowInitial { max, initial } => {
                text.push_str(".backoff.maxMs (");
                push_setting(&mut text, *max);
                text.push_str(") must not be below backoff.initialMs (");
                push_setting(&mut text, *initial);
                text.push(')');
            }
        }
        text
    }
}

fn push(text: &mut String, parts: &[&str]) {
    for part in parts {
        text.push_str(part);
    }
}

fn push_setting(text: &mut String, setting: Setting) {
    if !setting.given {
        text.push_str("default ");
    }
    // The decimal digits, most significant first.
    let mut digits = Vec::new();
    let mut rest = setting.ms;
    loop {
        digits.push(b'0' + (rest % 10) as u8);
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    text.extend(digits.iter().rev().map(|&digit| char::from(digit)));
}

impl From<ConfigError> for JsValue {
    fn from(error: ConfigError) -> JsValue {
        JsError::new(&error.message()).into()
    }
}

/// serde requires it; the app gets `message()`, never this.
impl core::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.message())
    }
}

impl de::StdError for ConfigError {}

/// serde's own errors are never met (the reader hands over every field, and each kind
/// reads its value itself): each is the same refusal, and their text, which would need
/// formatting, is not made. Every constructor is overridden, as serde's defaults format.
impl de::Error for ConfigError {
    fn custom<T: core::fmt::Display>(_: T) -> Self {
        ConfigError::Unnamed(NOT_READ)
    }

    fn invalid_type(_: Unexpected, _: &dyn de::Expected) -> Self {
        ConfigError::Unnamed(NOT_READ)
    }

    fn invalid_value(_: Unexpected, _: &dyn de::Expected) -> Self {
        ConfigError::Unnamed(NOT_READ)
    }

    fn invalid_length(_: usize, _: &dyn de::Expected) -> Self {
        ConfigError::Unnamed(NOT_READ)
    }

    fn unknown_variant(_: &str, _: &'static [&'static str]) -> Self {
        ConfigError::Unnamed(NOT_READ)
    }

    fn unknown_field(_: &str, _: &'static [&'static str]) -> Self {
        ConfigError::Unnamed(NOT_READ)
    }

    fn duplicate_field(_: &'static str) -> Self {
        ConfigError::Unnamed(NOT_READ)
    }

    /// A kind's refusal (see `deserialize_kinds` in options.rs).
    fn missing_field(refusal: &'static str) -> Self {
        ConfigError::Unnamed(refusal)
    }
}

/// The refusal of a value none of serde's types could read (never met).
const NOT_READ: &str = "could not be read";

/// What a nested options object (or the config) must be.
pub const MUST_BE_AN_OBJECT: &str = "must be an object";

/// Reads one value: the config itself (`name` empty) or the option `name` of the
/// options object at `parent` (empty for the config).
pub struct Reader<'a> {
    value: JsValue,
    parent: &'a str,
    name: &'static str,
}

impl Reader<'_> {
    /// A reader of the app's config object.
    pub fn new(config: &JsValue) -> Reader<'static> {
        Reader {
            value: config.clone(),
            parent: "",
            name: "",
        }
    }

    fn is_absent(&self) -> bool {
        self.value.is_undefined() || self.value.is_null()
    }
}

impl<'de> de::Deserializer<'de> for Reader<'_> {
    type Error = ConfigError;

    /// The fields of an options object (the config, `backoff`, `persist`).
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ConfigError> {
        if !self.value.is_object() {
            return Err(ConfigError::Unnamed(MUST_BE_AN_OBJECT));
        }
        let own_path = path(self.parent, self.name);
        let options = visitor.visit_map(Fields {
            object: &self.value,
            parent: &own_path,
            names: fields.iter(),
            name: "",
        })?;
        warn_of_unknown_options(&self.value, fields, &own_path);
        Ok(options)
    }

    /// An option absent, `undefined` or `null` is `None`.
    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ConfigError> {
        if self.is_absent() {
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    /// A kind's value, handed over as it is: in the shape `serde_wasm_bindgen::preserve`
    /// reads (from serde-wasm-bindgen's own deserializer), a tuple struct of the name it
    /// asked for and the value's index in wasm-bindgen's heap, which `preserve` takes
    /// back as the `JsValue`. serde-wasm-bindgen's deserializer is not used for it: its
    /// errors format (floats included) and would bring `core::fmt` along.
    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, ConfigError> {
        visitor.visit_seq(Preserved {
            name: Some(name),
            value: Some(self.value),
        })
    }

    /// Nothing else is asked for: options are structs, options of kinds, and kinds.
    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, ConfigError> {
        Err(ConfigError::Unnamed(NOT_READ))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
        byte_buf unit unit_struct newtype_struct seq tuple map enum identifier ignored_any
    }
}

/// A value as `serde_wasm_bindgen::preserve` reads it: the tuple struct's name, then the
/// value's heap index.
struct Preserved {
    name: Option<&'static str>,
    value: Option<JsValue>,
}

impl<'de> SeqAccess<'de> for Preserved {
    type Error = ConfigError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, ConfigError> {
        if let Some(name) = self.name.take() {
            return seed
                .deserialize(BorrowedStrDeserializer::new(name))
                .map(Some);
        }
        match self.value.take() {
            Some(value) => seed
                .deserialize(U32Deserializer::new(value.into_abi()))
                .map(Some),
            None => Ok(None),
        }
    }
}

/// The fields of one options object, each read from `object` under its name.
struct Fields<'a> {
    object: &'a JsValue,
    /// The object's own path, empty for the config.
    parent: &'a str,
    names: core::slice::Iter<'static, &'static str>,
    /// The field whose value is next.
    name: &'static str,
}

impl<'de> MapAccess<'de> for Fields<'_> {
    type Error = ConfigError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, ConfigError> {
        let Some(&name) = self.names.next() else {
            return Ok(None);
        };
        self.name = name;
        seed.deserialize(BorrowedStrDeserializer::new(name))
            .map(Some)
    }

    /// The field's value read by its type; a refusal names the option.
    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, ConfigError> {
        seed.deserialize(self.reader())
            .map_err(|error| self.named(error))
    }
}

impl Fields<'_> {
    /// A reader of the field's value (a getter that throws gives `undefined`).
    fn reader(&self) -> Reader<'_> {
        Reader {
            value: js::get(self.object, self.name),
            parent: self.parent,
            name: self.name,
        }
    }

    /// `error` naming the field when it does not yet name an option.
    fn named(&self, error: ConfigError) -> ConfigError {
        match error {
            ConfigError::Unnamed(refusal) => ConfigError::Refused {
                path: path(self.parent, self.name),
                refusal,
            },
            named => named,
        }
    }
}

/// `name` inside the options object at `parent` (empty for the config).
fn path(parent: &str, name: &str) -> String {
    let mut path = String::from(parent);
    if !parent.is_empty() {
        path.push('.');
    }
    path.push_str(name);
    path
}

#[wasm_bindgen]
extern "C" {
    /// `Object.keys(object)`; the error when a Proxy refuses to list them.
    #[wasm_bindgen(js_namespace = Object, js_name = keys, catch)]
    fn keys(object: &JsValue) -> Result<js_sys::Array, JsValue>;
}

std::thread_local! {
    /// The paths of the unknown options already warned of on this page.
    static WARNED: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// Warns of each key of `object` that no field names (`known`), once per option path
/// per page (an app making many connections is not flooded). As with an option, one
/// that is `undefined` or `null` counts as absent.
fn warn_of_unknown_options(object: &JsValue, known: &[&str], parent: &str) {
    let Ok(names) = keys(object) else {
        return; // a Proxy refusing to list its keys: nothing to warn of
    };
    for name in names.iter().filter_map(|name| name.as_string()) {
        let value = js::get(object, &name);
        if known.contains(&name.as_str()) || value.is_undefined() || value.is_null() {
            continue;
        }
        let path = path(parent, &name);
        let new = WARNED.with_borrow_mut(|warned| {
            let new = !warned.contains(&path);
            if new {
                warned.push(path.clone());
            }
            new
        });
        if new {
            let mut text = String::from("config.");
            push(
                &mut text,
                &[&path, " is not an option of sse-courier; it is ignored"],
            );
            js::warn(&js::string(&text));
        }
    }
}
