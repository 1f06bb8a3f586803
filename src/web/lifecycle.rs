//! The page lifecycle listeners of a connected connection: `visibilitychange` on
//! `document`, and `pageshow`, `pagehide` and `online` on the global object (on
//! whichever exist: a Web Worker has no `document`). Each is a gloo-events
//! `EventListener`, which removes itself when dropped: on `disconnect()`, and when the
//! connection goes. Each event becomes a core input.

use alloc::rc::Rc;
use alloc::vec::Vec;

use gloo_events::{EventListener, EventListenerOptions};
use wasm_bindgen::{JsCast, JsValue};

use super::js;
use super::shell::{pump, Shared};

/// The listeners while the connection listens; dropping this removes them all.
pub struct PageListeners(#[allow(dead_code)] Vec<EventListener>);

/// A page lifecycle event, as the core hears it.
#[derive(Clone, Copy)]
enum PageEvent {
    Visible,
    Hidden,
    PageHide,
    PageShow { from_back_forward_cache: bool },
    Online,
}

/// Starts listening, on whichever targets exist.
pub fn listen(shell: &Shared) -> PageListeners {
    let global = JsValue::from(js_sys::global());
    let document = js::get(&global, "document");
    let mut listeners = Vec::new();
    if has_listeners(&document) {
        let visibility_of = document.clone();
        listeners.push(on(
            shell,
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
        listeners.push(on(shell, &global, "pageshow", |event| {
            let persisted = js::get(event, "persisted").as_bool() == Some(true);
            Some(PageEvent::PageShow {
                from_back_forward_cache: persisted,
            })
        }));
        listeners.push(on(shell, &global, "pagehide", |_| {
            Some(PageEvent::PageHide)
        }));
        listeners.push(on(shell, &global, "online", |_| Some(PageEvent::Online)));
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
    shell: &Shared,
    target: &JsValue,
    event_type: &'static str,
    read: impl Fn(&JsValue) -> Option<PageEvent> + 'static,
) -> EventListener {
    let connection = Rc::downgrade(shell);
    let options = EventListenerOptions {
        passive: true,
        ..EventListenerOptions::default()
    };
    EventListener::new_with_options(target.unchecked_ref(), event_type, options, move |event| {
        let Some(page_event) = read(event.as_ref()) else {
            return;
        };
        if let Some(shell) = connection.upgrade() {
            tell_core(&shell, page_event);
            pump(&shell);
        }
    })
}

fn tell_core(shell: &Shared, event: PageEvent) {
    let now = js::now();
    let mut s = shell.borrow_mut();
    match event {
        PageEvent::Visible => s.core.on_visibility(now, true),
        PageEvent::Hidden => s.core.on_visibility(now, false),
        PageEvent::PageHide => s.core.on_page_hide(now),
        PageEvent::PageShow {
            from_back_forward_cache,
        } => s.core.on_page_show(now, from_back_forward_cache),
        PageEvent::Online => s.core.on_online(now),
    }
}
