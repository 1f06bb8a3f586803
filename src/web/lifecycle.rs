//! Page lifecycle listeners (visibility, pagehide, pageshow, online), added by the JS
//! helper ([`js::listen_lifecycle`]) and removed when the `Lifecycle` is dropped.
//!
//! Uses `globalThis`, never `window`: in a Web Worker or in Node there is no
//! `document`, and only the listeners whose target exists are added.

use wasm_bindgen::JsValue;

use super::callbacks::Callback;
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
    listeners: JsValue,
    _callback: Callback,
}

impl Lifecycle {
    pub fn listen(on_signal: impl Fn(PageSignal) + 'static) -> Lifecycle {
        let callback = Callback::new(move |code: JsValue| {
            on_signal(match code.as_f64().unwrap_or(0.0) as u8 {
                0 => PageSignal::Visible,
                1 => PageSignal::Hidden,
                2 => PageSignal::PageHide,
                3 => PageSignal::PageShow { persisted: true },
                4 => PageSignal::PageShow { persisted: false },
                _ => PageSignal::Online,
            })
        });
        Lifecycle {
            listeners: js::listen_lifecycle(callback.as_ref()),
            _callback: callback,
        }
    }
}

impl Drop for Lifecycle {
    fn drop(&mut self) {
        js::remove_listeners(&self.listeners);
    }
}
