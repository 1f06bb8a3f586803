//! The page lifecycle listeners of a connected connection: `visibilitychange` on
//! `document`, and `pageshow`, `pagehide` and `online` on the global object (on
//! whichever exist: a Web Worker has no `document`). Each is a gloo-events
//! `EventListener`, which removes itself when dropped: on `disconnect()`, and when the
//! connection goes. Each event is reported as an `Input::Page`.

use alloc::vec::Vec;

use gloo_events::{EventListener, EventListenerOptions};
use wasm_bindgen::{JsCast, JsValue};

use super::input::{Input, Inputs, PageEvent};
use super::js;

/// The listeners while the connection listens; dropping this removes them all.
pub struct PageListeners(#[allow(dead_code)] Vec<EventListener>);

/// Starts listening, on whichever targets exist.
pub fn listen(inputs: &Inputs) -> PageListeners {
    let global = JsValue::from(js_sys::global());
    let document = js::get(&global, "document");
    let mut listeners = Vec::new();
    if has_listeners(&document) {
        let visibility_of = document.clone();
        listeners.push(on(
            inputs,
            &document,
            "visibilitychange",
            move |_| match js::get(&visibility_of, "visibilityState")
                .as_string()?
                .as_str()
            {
                "visible" => Some(PageEvent::Visible),
                "hidden" => Some(PageEvent::Hidden),
                _ => None,
            },
        ));
    }
    if has_listeners(&global) {
        listeners.push(on(inputs, &global, "pageshow", |event| {
            let persisted = js::get(event, "persisted").as_bool() == Some(true);
            Some(PageEvent::PageShow {
                from_back_forward_cache: persisted,
            })
        }));
        listeners.push(on(inputs, &global, "pagehide", |_| {
            Some(PageEvent::PageHide)
        }));
        listeners.push(on(inputs, &global, "online", |_| Some(PageEvent::Online)));
    }
    PageListeners(listeners)
}

/// Whether `target` can be listened to (and stop being): an injected fake may not.
fn has_listeners(target: &JsValue) -> bool {
    js::get(target, "addEventListener").is_function()
        && js::get(target, "removeEventListener").is_function()
}

/// A passive listener of `event_type` on `target` whose events, as `read` tells them,
/// reach the core.
fn on(
    inputs: &Inputs,
    target: &JsValue,
    event_type: &'static str,
    read: impl Fn(&JsValue) -> Option<PageEvent> + 'static,
) -> EventListener {
    let inputs = inputs.clone();
    let options = EventListenerOptions {
        passive: true,
        ..EventListenerOptions::default()
    };
    EventListener::new_with_options(target.unchecked_ref(), event_type, options, move |event| {
        if let Some(page_event) = read(event.as_ref()) {
            let _ = inputs.send(Input::Page(page_event));
        }
    })
}
