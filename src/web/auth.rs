//! The shell's side of the authentication latch (`authLatch`; docs/delivery-rules.md,
//! rule 24): the `Connection` methods that latch and restore it, and the check the
//! core asks for after a stream error, a GET of `authCheckUrl` through the app's
//! `fetch` (so that its auth headers apply). What latches, and what it settles, is
//! the core's to say (`src/core/auth.rs`); the `auth_expired` event is recognised in
//! `inbound.js`.

use js_sys::Reflect;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::RequestInit;

use super::connection::Connection;
use super::input::{Input, Inputs};
use super::js;
use super::post;
use super::shell::{pump, Shell};
use crate::core::{Driver, Machine, PostId};

/// Where the check goes unless `authCheckUrl` says: under `baseUrl`.
const DEFAULT_CHECK_PATH: &str = "/api/auth/check";

#[wasm_bindgen]
impl Connection {
    /// With `authLatch`: latched from now on, without `_auth_lost` (the app knows),
    /// for an app that has no credentials yet; `connect()` opens nothing until
    /// `restoreAuthentication()`. Throws without `authLatch`.
    #[wasm_bindgen(js_name = blockAuthentication)]
    pub fn block_authentication(&self) -> Result<(), JsError> {
        self.latch_input("blockAuthentication", Machine::block_authentication)
    }

    /// With `authLatch`: authentication is lost, as if the server had said so: the
    /// stream closes, every message is settled and the listener hears `_auth_lost`.
    /// Throws without `authLatch`.
    #[wasm_bindgen(js_name = invalidateAuthentication)]
    pub fn invalidate_authentication(&self) -> Result<(), JsError> {
        self.latch_input(
            "invalidateAuthentication",
            Machine::invalidate_authentication,
        )
    }

    /// With `authLatch`: unlatched, and the stream rebuilt with the new credentials
    /// (opened, when the app connected while latched). Throws without `authLatch`.
    #[wasm_bindgen(js_name = restoreAuthentication)]
    pub fn restore_authentication(&self) -> Result<(), JsError> {
        self.latch_input("restoreAuthentication", Machine::restore_authentication)
    }
}

impl Connection {
    fn latch_input(&self, method: &str, input: fn(&mut Machine, u64)) -> Result<(), JsError> {
        if !self.shell.borrow().core.machine().auth_latch_on() {
            return Err(JsError::new(
                &[method, "() needs config.authLatch: true (or config.strict)"].concat(),
            ));
        }
        self.feed(input);
        pump(&self.shell);
        Ok(())
    }
}

/// With `authLatch`, the streams' handlers hand `auth_expired` events to the inbox's
/// `authExpired()` (`inbound.js` reads `watchAuth` on the connection's session memory,
/// which every handler shares).
pub fn watch_events(shell: &Shell) {
    if shell.core.machine().auth_latch_on() {
        let _ = Reflect::set(&shell.session_memory, &"watchAuth".into(), &JsValue::TRUE);
    }
}

/// GETs the check URL (`config` being the connection's copy, read now: `authCheckUrl`,
/// else `{baseUrl}/api/auth/check`) and reports its answer to `inputs`.
pub fn check(config: &JsValue, check: PostId, inputs: &Inputs) {
    let url = match js::get(config, "authCheckUrl").as_string() {
        Some(url) => url,
        None => {
            let base_url = js::get(config, "baseUrl").as_string().unwrap_or_default();
            [base_url.as_str(), DEFAULT_CHECK_PATH].concat()
        }
    };
    let init = RequestInit::new();
    init.set_method("GET");
    let answer = post::call_fetch(config, &url, &init);
    let inputs = inputs.clone();
    spawn_local(async move {
        let outcome = post::outcome_of(JsFuture::from(answer).await);
        let _ = inputs.send(Input::AuthCheck { check, outcome });
    });
}
