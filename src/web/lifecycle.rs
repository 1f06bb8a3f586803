//! Page lifecycle listeners (visibility, pagehide, pageshow, online), held as
//! [`EventListener`]s so dropping a `Lifecycle` removes every one of them.
//!
//! Uses `globalThis`, never `window`: in a Web Worker or in Node there is no
//! `document`, and only the listeners whose target exists are added.

use alloc::vec::Vec;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::EventTarget;

use super::callbacks::EventListener;
use super::js;

/// A page lifecycle change, handed to the shell.
pub enum PageSignal {
    Visible,
    Hidden,
    PageHide,
    PageShow { persisted: bool },
    Online,
}

pub struct Lifecycle {
    _listeners: Vec<EventListener>,
}

impl Lifecycle {
    pub fn listen(on_signal: impl Fn(PageSignal) + Clone + 'static) -> Lifecycle {
        let global = js::global();
        let mut listeners = Vec::new();
        let document = js::get(&global, "document");
        if is_event_target(&document) {
            let signal = on_signal.clone();
            let doc = document.clone();
            listeners.push(EventListener::new(
                document.unchecked_ref::<EventTarget>(),
                "visibilitychange",
                move |_: JsValue| match js::get(&doc, "visibilityState").as_string().as_deref() {
                    Some("visible") => signal(PageSignal::Visible),
                    Some("hidden") => signal(PageSignal::Hidden),
                    _ => {}
                },
            ));
        }
        if is_event_target(&global) {
            let target: &EventTarget = global.unchecked_ref();
            let signal = on_signal.clone();
            listeners.push(EventListener::new(
                target,
                "pageshow",
                move |event: JsValue| {
                    let persisted = js::get(&event, "persisted").as_bool() == Some(true);
                    signal(PageSignal::PageShow { persisted });
                },
            ));
            let signal = on_signal.clone();
            listeners.push(EventListener::new(target, "pagehide", move |_: JsValue| {
                signal(PageSignal::PageHide)
            }));
            listeners.push(EventListener::new(target, "online", move |_: JsValue| {
                on_signal(PageSignal::Online)
            }));
        }
        Lifecycle {
            _listeners: listeners,
        }
    }
}

fn is_event_target(value: &JsValue) -> bool {
    js::get_function(value, "addEventListener").is_some()
        && js::get_function(value, "removeEventListener").is_some()
}
