//! `lastProbe()`: how the last foreground probe ended (`foregroundProbe`;
//! docs/delivery-rules.md, rule 23), as the TypeScript `ProbeResult` spells it, every
//! field by name.

use serde::Serialize;
use wasm_bindgen::JsValue;

use super::boundary;
use crate::core::{PostOutcome, ProbeOutcome};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ProbeResult {
    result: &'static str,
    ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    round_trip_ms: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    http_status: Option<u16>,
}

/// The `ProbeResult` of `outcome`, or `null` when no probe has ended yet.
pub fn result(outcome: Option<ProbeOutcome>) -> Result<JsValue, JsValue> {
    let Some(outcome) = outcome else {
        return Ok(JsValue::NULL);
    };
    let (result, round_trip_ms, http_status) = match outcome {
        ProbeOutcome::Echoed { round_trip_ms } => {
            let ms = u32::try_from(round_trip_ms).unwrap_or(u32::MAX);
            ("echoed", Some(ms), None)
        }
        ProbeOutcome::NoEcho => ("no_echo", None, None),
        ProbeOutcome::Cancelled => ("cancelled", None, None),
        ProbeOutcome::PostFailed(PostOutcome::Status(status)) => ("refused", None, Some(status)),
        ProbeOutcome::PostFailed(PostOutcome::TimedOut) => ("timeout", None, None),
        // A 2xx never fails a probe: what is left is the network.
        ProbeOutcome::PostFailed(_) => ("network", None, None),
    };
    boundary::to_js(&ProbeResult {
        result,
        ok: outcome.is_ok(),
        round_trip_ms,
        http_status,
    })
}
