//! The stand-in agent: answers each newly accepted `send` with a short reply, the way
//! the real backend streams a model's answer, so clients and demos see realistic
//! traffic (an echo, several deltas, a done marker) with increasing seqs.
//!
//! Benchmarks can switch it off (`--no-agent`) or make it instant
//! (`--agent-delay-ms 0`): an instant reply is appended before the POST is answered,
//! which also makes tests deterministic.

use std::time::Duration;

use serde_json::{json, Map, Value};

use crate::state::{AppState, Inner};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentOptions {
    /// Off: accepted sends produce no events at all.
    pub enabled: bool,
    /// `block_delta` events per reply.
    pub deltas: usize,
    /// Pause before each reply event after the echo; zero appends the reply at once.
    pub delay: Duration,
}

impl Default for AgentOptions {
    fn default() -> Self {
        AgentOptions {
            enabled: true,
            deltas: 3,
            delay: Duration::from_millis(5),
        }
    }
}

/// Upper bound on `deltas`, so one send cannot flood a session's store.
pub(crate) const MAX_DELTAS: usize = 100;

/// Starts the reply to an accepted send. Called with the state locked, right after
/// the send was accepted, so the echo's seq is ordered with the acceptance.
pub(crate) fn on_send(
    state: &AppState,
    inner: &mut Inner,
    session_id: &str,
    client_msg_id: Option<&str>,
    text: &str,
) {
    let options = inner.agent.clone();
    if !options.enabled {
        return;
    }
    let mut echo = object("user_message");
    echo.insert("text".into(), Value::from(text));
    if let Some(id) = client_msg_id {
        echo.insert("clientMsgId".into(), Value::from(id));
    }
    inner.append(session_id, echo);

    let reply = reply_events(text, client_msg_id, options.deltas.min(MAX_DELTAS));
    if options.delay.is_zero() {
        for event in reply {
            inner.append(session_id, event);
        }
        return;
    }
    let epoch = inner.epoch;
    let generation = inner.session(session_id).agent_generation;
    let state = state.clone();
    let session_id = session_id.to_string();
    tokio::spawn(async move {
        for event in reply {
            tokio::time::sleep(options.delay).await;
            let mut inner = state.lock();
            // A reset or a stop/interrupt since the send ends this reply.
            let current = inner.sessions.get(&session_id).map(|s| s.agent_generation);
            if inner.epoch != epoch || current != Some(generation) {
                return;
            }
            inner.append(&session_id, event);
        }
    });
}

fn object(kind: &str) -> Map<String, Value> {
    let mut map = Map::new();
    map.insert("type".into(), Value::from(kind));
    map
}

/// The reply: the prompt echoed back in `deltas` pieces, then `message_done`.
fn reply_events(text: &str, client_msg_id: Option<&str>, deltas: usize) -> Vec<Map<String, Value>> {
    let answer = if text.trim().is_empty() {
        "(nothing to echo)".to_string()
    } else {
        format!("You said: {text}")
    };
    let mut events: Vec<Map<String, Value>> = split(&answer, deltas)
        .into_iter()
        .map(|piece| {
            let mut delta = object("block_delta");
            delta.insert("delta".into(), Value::from(piece));
            // Names the message answered, so a client can place interleaved replies.
            if let Some(id) = client_msg_id {
                delta.insert("clientMsgId".into(), json!(id));
            }
            delta
        })
        .collect();
    let mut done = object("message_done");
    if let Some(id) = client_msg_id {
        done.insert("clientMsgId".into(), json!(id));
    }
    events.push(done);
    events
}

/// Splits `text` into `parts` pieces of nearly equal character counts (fewer when the
/// text is shorter), never inside a UTF-8 character.
fn split(text: &str, parts: usize) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    if parts == 0 || chars.is_empty() {
        return Vec::new();
    }
    let size = chars.len().div_ceil(parts);
    chars.chunks(size).map(|c| c.iter().collect()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reply_is_the_echo_in_pieces_then_done() {
        let events = reply_events("hello world", Some("m1"), 3);
        assert_eq!(events.len(), 4);
        let text: String = events[..3]
            .iter()
            .map(|e| e["delta"].as_str().unwrap())
            .collect();
        assert_eq!(text, "You said: hello world");
        assert_eq!(events[3]["type"], "message_done");
        assert_eq!(events[3]["clientMsgId"], "m1");
        assert!(events[..3].iter().all(|e| e["clientMsgId"] == "m1"));
    }

    #[test]
    fn split_respects_multibyte_characters() {
        let pieces = split("héllo wörld ✓", 4);
        assert_eq!(pieces.concat(), "héllo wörld ✓");
        assert!(pieces.len() <= 4);
        assert!(split("abc", 0).is_empty());
    }
}
