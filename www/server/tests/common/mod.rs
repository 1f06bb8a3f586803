//! Test harness: the real server in-process on a free port, and a small HTTP/1.1
//! client (hyper) that speaks to it over real TCP, including an incremental SSE
//! reader.

#![allow(dead_code)] // each test binary uses a different part of the harness

use std::net::SocketAddr;
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use sse_courier_server::{serve_until, AgentOptions, AppState, Options};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

/// How long any single wait in a test may take before it fails.
pub const PATIENCE: Duration = Duration::from_secs(5);

pub struct Server {
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Options for deterministic tests: an instant agent (its reply is stored before the
/// send is answered) and heartbeats too slow to interleave with assertions.
pub fn test_options() -> Options {
    Options {
        heartbeat: Duration::from_secs(60),
        static_dir: None,
        agent: AgentOptions {
            enabled: true,
            deltas: 3,
            delay: Duration::ZERO,
        },
        sse_retry: None,
        untied_sends: false,
    }
}

impl Server {
    pub async fn start() -> Self {
        Self::with(test_options()).await
    }

    pub async fn with(options: Options) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let state = AppState::new(options);
        tokio::spawn(serve_until(listener, state, async {
            let _ = stopped.await;
        }));
        Server {
            addr,
            stop: Some(stop),
        }
    }

    pub async fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) -> Reply {
        let response = self
            .send(method, path, headers, Full::new(body.into()))
            .await;
        let status = response.status();
        let headers = response.headers().clone();
        let body = tokio::time::timeout(PATIENCE, response.into_body().collect())
            .await
            .expect("response body in time")
            .expect("response body")
            .to_bytes();
        Reply {
            status,
            headers,
            body,
        }
    }

    async fn send<B>(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: B,
    ) -> hyper::Response<Incoming>
    where
        B: hyper::body::Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let tcp = TcpStream::connect(self.addr).await.unwrap();
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
            .await
            .unwrap();
        tokio::spawn(connection);
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header("host", self.addr.to_string());
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        tokio::time::timeout(PATIENCE, sender.send_request(request.body(body).unwrap()))
            .await
            .expect("response head in time")
            .expect("response head")
    }

    /// A request whose body is streamed without a Content-Length.
    pub async fn request_chunked(
        &self,
        path: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Reply {
        let stream = http_body_util::StreamBody::new(futures_util::stream::iter(
            body.chunks(8 * 1024)
                .map(|c| {
                    Ok::<_, std::convert::Infallible>(hyper::body::Frame::data(
                        Bytes::copy_from_slice(c),
                    ))
                })
                .collect::<Vec<_>>(),
        ));
        let response = self.send("POST", path, headers, stream).await;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        Reply {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.request("GET", path, &[], Bytes::new()).await
    }

    /// A chat POST as the client library sends it.
    pub async fn chat(&self, endpoint: &str, connection_id: &str, body: Value) -> Reply {
        self.request(
            "POST",
            &format!("/api/chat/{endpoint}"),
            &[
                ("content-type", "application/json"),
                ("x-connection-id", connection_id),
            ],
            body.to_string(),
        )
        .await
    }

    /// A test-control POST; asserts it succeeded and returns its JSON.
    pub async fn control(&self, name: &str, body: Value) -> Value {
        let reply = self
            .request(
                "POST",
                &format!("/api/test/{name}"),
                &[("content-type", "application/json")],
                body.to_string(),
            )
            .await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "control {name}: {}",
            reply.text()
        );
        reply.json()
    }

    pub async fn get_json(&self, path: &str) -> Value {
        let reply = self.get(path).await;
        assert_eq!(reply.status, StatusCode::OK, "GET {path}: {}", reply.text());
        reply.json()
    }

    /// Opens `GET /api/chat/events`.
    pub async fn events(&self) -> EventStream {
        let response = self
            .send("GET", "/api/chat/events", &[], Full::new(Bytes::new()))
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        EventStream {
            headers: response.headers().clone(),
            body: response.into_body(),
            buffer: String::new(),
        }
    }

    /// Opens a stream and reads its welcome; returns both.
    pub async fn connect(&self) -> (EventStream, String) {
        let mut stream = self.events().await;
        let id = stream.welcome().await;
        (stream, id)
    }

    /// Sends a message and checks it was accepted.
    pub async fn send_ok(
        &self,
        connection_id: &str,
        session: &str,
        client_msg_id: &str,
        prompt: &str,
    ) -> Value {
        let reply = self
            .chat(
                "send",
                connection_id,
                json!({"type": "send", "sessionId": session, "clientMsgId": client_msg_id, "prompt": prompt}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "send: {}", reply.text());
        reply.json()
    }
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: hyper::HeaderMap,
    pub body: Bytes,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The JSON `error` message, asserting the `{"error": ...}` shape.
    pub fn error(&self) -> String {
        self.json()["error"]
            .as_str()
            .unwrap_or_else(|| panic!("no error message: {}", self.text()))
            .to_string()
    }
}

/// One parsed SSE event.
#[derive(Debug, Clone, PartialEq)]
pub struct SseEvent {
    pub event: Option<String>,
    pub id: Option<String>,
    /// The `retry:` field (ms), when the event carried one.
    pub retry: Option<u64>,
    pub data: String,
}

impl SseEvent {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.data)
            .unwrap_or_else(|e| panic!("event data not JSON ({e}): {}", self.data))
    }
}

pub struct EventStream {
    pub headers: hyper::HeaderMap,
    body: Incoming,
    buffer: String,
}

/// What reading the stream produced within the time allowed.
#[derive(Debug)]
pub enum Read {
    Event(SseEvent),
    Ended,
    Silent,
}

impl EventStream {
    pub async fn read(&mut self, within: Duration) -> Read {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                if let Some(event) = parse_block(&block) {
                    return Read::Event(event);
                }
                continue;
            }
            match tokio::time::timeout_at(deadline, self.body.frame()).await {
                Err(_) => return Read::Silent,
                Ok(None) | Ok(Some(Err(_))) => return Read::Ended,
                Ok(Some(Ok(frame))) => {
                    if let Ok(data) = frame.into_data() {
                        self.buffer.push_str(&String::from_utf8_lossy(&data));
                    }
                }
            }
        }
    }

    /// The next event, failing the test if none comes in time.
    pub async fn next(&mut self) -> SseEvent {
        match self.read(PATIENCE).await {
            Read::Event(event) => event,
            other => panic!("expected an event, got {other:?}"),
        }
    }

    /// The next event that is not a heartbeat.
    pub async fn next_non_heartbeat(&mut self) -> SseEvent {
        loop {
            let event = self.next().await;
            if event.data != r#"{"type":"heartbeat"}"# {
                return event;
            }
        }
    }

    /// Reads the welcome and returns its connection id.
    pub async fn welcome(&mut self) -> String {
        let event = self.next().await;
        assert_eq!(
            event.event.as_deref(),
            Some("welcome"),
            "first event: {event:?}"
        );
        let data = event.json();
        assert_eq!(data["type"], "welcome");
        assert_eq!(data["protocolVersion"], 2);
        data["connectionId"]
            .as_str()
            .expect("connectionId")
            .to_string()
    }

    /// Asserts nothing arrives for `quiet`.
    pub async fn expect_silent(&mut self, quiet: Duration) {
        match self.read(quiet).await {
            Read::Silent => {}
            other => panic!("expected silence, got {other:?}"),
        }
    }

    pub async fn expect_end(&mut self) {
        loop {
            match self.read(PATIENCE).await {
                Read::Ended => return,
                Read::Silent => panic!("stream did not end"),
                Read::Event(_) => {}
            }
        }
    }
}

fn parse_block(block: &str) -> Option<SseEvent> {
    let mut event = None;
    let mut id = None;
    let mut retry = None;
    let mut data: Vec<&str> = Vec::new();
    for line in block.lines() {
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "event" => event = Some(value.to_string()),
            "id" => id = Some(value.to_string()),
            "retry" => retry = value.parse().ok(),
            "data" => data.push(value),
            _ => {}
        }
    }
    if data.is_empty() {
        return None;
    }
    Some(SseEvent {
        event,
        id,
        retry,
        data: data.join("\n"),
    })
}
