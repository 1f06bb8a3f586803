//! A `Connection` under test in the browser, with what it reported and dispatched.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Object, Reflect, JSON};
use sse_courier::Connection;
use wasm_bindgen::prelude::*;

use super::{field, server_url, wait_until};

/// Native EventSource reconnects after a killed stream take the browser's own delay
/// (seconds); this bounds every wait so a hang fails instead of stalling CI.
pub const WAIT_MS: i32 = 20_000;

pub struct Report {
    pub status: String,
    pub reason: Option<String>,
    pub client_msg_id: Option<String>,
}

/// A connected `Connection` plus what it reported and dispatched.
pub struct Client {
    pub conn: Connection,
    pub reports: Rc<RefCell<Vec<Report>>>,
    pub events: Rc<RefCell<Vec<JsValue>>>,
    _on_delivery: Closure<dyn FnMut(JsValue)>,
    _listener: Closure<dyn FnMut(JsValue)>,
}

impl Client {
    pub async fn connected() -> Client {
        let reports = Rc::new(RefCell::new(Vec::new()));
        let sink = reports.clone();
        let on_delivery = Closure::<dyn FnMut(JsValue)>::new(move |r: JsValue| {
            sink.borrow_mut().push(Report {
                status: field(&r, &["status"]).as_string().unwrap(),
                reason: field(&r, &["reason"]).as_string(),
                client_msg_id: field(&r, &["clientMsgId"]).as_string(),
            })
        });
        let config = Object::new();
        Reflect::set(&config, &"baseUrl".into(), &server_url().into()).unwrap();
        Reflect::set(&config, &"onDelivery".into(), on_delivery.as_ref()).unwrap();
        let conn = Connection::new(config.into()).unwrap();

        let events = Rc::new(RefCell::new(Vec::new()));
        let sink = events.clone();
        let listener =
            Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| sink.borrow_mut().push(e));
        conn.on_message(listener.as_ref().clone());
        conn.connect();
        let client = Client {
            conn,
            reports,
            events,
            _on_delivery: on_delivery,
            _listener: listener,
        };
        client.wait_connected().await;
        client
    }

    pub async fn wait_connected(&self) {
        wait_until("connected", WAIT_MS, || self.conn.is_connected()).await;
    }

    /// Makes the server silently forget this connection while its stream stays open
    /// (the seed's stale case); returns the now-stale connection id.
    pub async fn make_stale(&self) -> String {
        let id = self.id();
        let body = format!(r#"{{"connectionId":"{id}"}}"#);
        super::control("POST", "forget", Some(&body)).await;
        id
    }

    pub fn id(&self) -> String {
        self.conn.get_connection_id().as_string().unwrap()
    }

    pub fn send(&self, json: &str) -> bool {
        self.conn.send(JSON::parse(json).unwrap()).unwrap()
    }

    pub async fn wait_reports(&self, count: usize) {
        wait_until("delivery reports arrive", WAIT_MS, || {
            self.reports.borrow().len() >= count
        })
        .await;
    }

    /// (seq) of every dispatched event of the session, in dispatch order.
    pub fn seqs_of(&self, session: &str) -> Vec<u64> {
        self.events
            .borrow()
            .iter()
            .filter(|e| field(e, &["sessionId"]).as_string().as_deref() == Some(session))
            .filter_map(|e| field(e, &["seq"]).as_f64())
            .map(|s| s as u64)
            .collect()
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        self.conn.disconnect();
    }
}

pub fn send_body(session: &str, id: &str) -> String {
    format!(r#"{{"type":"send","sessionId":"{session}","clientMsgId":"{id}","prompt":"hello"}}"#)
}
