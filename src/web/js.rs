//! Small, non-panicking helpers over raw JS values: property access, JSON, time,
//! console. Everything the shell reads from JS goes through here, duck-typed, because
//! injected fakes are plain objects rather than the platform classes.

use wasm_bindgen::prelude::*;

/// The hand-written JS helper module: what is cheaper done in JS than through one
/// import per property (event parsing, the POST and its answer, reports, notices and
/// bodies, stream and lifecycle wiring).
#[wasm_bindgen(inline_js = "let q;\
export function g(o,k){try{if(o===Object(o))return o[k]}catch(_){}}\
export function r(e,m,l){let d,v;try{d=e.data}catch(_){return null}\
if(typeof d!=='string'||d.length>m)return null;try{v=JSON.parse(d)}catch(_){return null}\
if(v===null||typeof v!=='object'||Array.isArray(v))return null;\
const s=v.sessionId,n=v.seq;\
q=typeof s==='string'&&Number.isSafeInteger(n)&&n>=0?s===l?n:-1-n:NaN;return v}\
export function c(){return q}\
const M=new WeakMap,K=C=>{let m=M.get(C);m||M.set(C,m=new Map);return m};\
export function p(C,u,i,b,n){let t=C,f=g(t,'fetch'),a,r;if(typeof f!=='function')f=g(t=globalThis,'fetch');u=g(C,'baseUrl')+'/api/chat/'+u;\
const o={method:'POST',headers:{'Content-Type':'application/json','X-Connection-ID':i},body:b};\
if(n>=0){try{a=new AbortController}catch(_){}if(a)o.signal=a.signal}\
if(typeof f!=='function')r=Promise.reject();else try{r=f.call(t,u,o)}catch(e){r=Promise.reject(e)}if(a)K(C).set(n,a);return r}\
export function b(C,n){const m=K(C),a=m.get(n);if(a){m.delete(n);a.abort()}}\
export function w(a,c,C,n){Promise.allSettled([a]).then(([r])=>{const v=r.value,b=g(v,'body'),k=g(b,'cancel');\
if(typeof k==='function')try{Promise.allSettled([k.call(b)])}catch(_){}\
const s=g(v,'status');K(C).delete(n);c(g(v,'ok')===true?0:typeof s==='number'&&s>=1&&s<=999?s:-1)})}\
let L=[];\
export function a(i,n){L.push({sessionId:i,lastSeq:n})}\
export function j(k){const o={type:k,sessions:L};L=[];return JSON.stringify(o)}\
export function k(C,i){const v=g(globalThis,'navigator'),f=g(v,'sendBeacon'),s=L,u=g(C,'suspendUrl');L=[];\
if(typeof f!=='function'||typeof u!=='string'||!u)return;let t;try{t=new Blob([JSON.stringify({connectionId:i,sessions:s})],{type:'application/json'})}catch(_){return}\
try{f.call(v,u,t)}catch(_){}}\
export function t(k){return{type:['_open','_close','_foreground'][k]}}\
export function x(f,v){try{f.call(null,v)}catch(e){console.error('[sse-courier] listener threw',e)}}\
export function d(C,n,h,e,m){const f=g(C,'onDelivery');if(typeof f!=='function')return;\
const o={status:n?n<4?'dropped':'failed':'delivered'};\
if(n)o.reason=['queue_overflow','stale_retries_exhausted','cleared','rejected','stale_connection','server_error','network','timeout'][n-1];if(h!==void 0)o.httpStatus=h;o.endpoint=e;\
const c=g(m,'clientMsgId');if(typeof c==='string')o.clientMsgId=c;o.message=m;x(f,o)}\
const T=o=>typeof g(o,'addEventListener')==='function'&&typeof g(o,'removeEventListener')==='function';\
const A=(a,t,k,f)=>{try{t.addEventListener(k,f,{passive:true})}catch(_){}a.push([t,k,f])};\
const R=(t,k,f)=>{try{t.removeEventListener(k,f,false)}catch(_){}};\
const S=(o,k,f)=>{try{Reflect.set(o,k,f)}catch(_){}};\
export function y(c){const a=[],G=globalThis,D=g(G,'document');\
if(T(D))A(a,D,'visibilitychange',()=>{const s=g(D,'visibilityState');s==='visible'?c(0):s==='hidden'&&c(1)});\
if(T(G)){A(a,G,'pageshow',e=>c(g(e,'persisted')===true?3:4));A(a,G,'pagehide',()=>c(2));A(a,G,'online',()=>c(5))}return a}\
export function z(a){for(const[t,k,f]of a)R(t,k,f)}\
export function s(C,w,m,r){const f=g(C,'createEventSource'),u=g(C,'baseUrl')+'/api/chat/events';let o;try{o=typeof f==='function'?f.call(void 0,u):new EventSource(u)}catch(_){return null}\
if(o===null||typeof o!=='object')return null;A([],o,'welcome',w);S(o,'onmessage',m);S(o,'onerror',()=>r(g(o,'readyState')===2));return o}\
export function h(o,w){o.close();R(o,'welcome',w);S(o,'onmessage',null);S(o,'onerror',null)}\
export function v(t){console.warn('[sse-courier] '+t)}\
export function o(m){if(m===null||typeof m!=='object'||Array.isArray(m))throw Error('send: message must be a plain object');\
const t=g(m,'type');if(typeof t!=='string')throw Error('send: message.type must be a string');return t}\
export function e(m){let b,x;try{b=JSON.stringify(m)}catch(y){x=y}\
if(typeof b!=='string')throw Error('send: message cannot be serialised to JSON: '+(g(x,'message')??''));return b}\
const N=['a function','a string','a non-negative number','a positive number','a non-negative integer','a positive integer','a boolean','an array of endpoint names','an object'];\
export function n(C){if(C===null||typeof C!=='object')throw Error('config must be an object with a baseUrl');\
const E=(f,m)=>{throw Error('config.'+f+' must '+m)},u=g(C,'baseUrl');let B;\
if(typeof u!=='string')E('baseUrl','be a string (\"\" for same-origin)');\
if(/[?#]|\\/$/.test(u))E('baseUrl',\"not end with '/' nor contain '?' or '#'\");\
return'fetch0createEventSource0onDelivery0suspendUrl1reconnectDelayMs2retryableEndpoints7maxPendingSends5maxStaleRetries5maxSendRetries4staleAfterMs3postTimeoutMs3backoff8backoff.initialMs3backoff.maxMs3orderedSends6maxEventBytes5'.match(/\\D+\\d/g).map(s=>{\
const f=s.slice(0,-1),k=+s.slice(-1),v=f.startsWith('backoff.')?g(B,f.slice(8)):g(C,f),t=typeof v;if(v==null)return;\
if(!(k<1?t==='function':k<2?t==='string':k<6?t==='number'&&(v>0||v===0&&!(k&1))&&v<=(k>3?4294967295:2147483647)&&(k<4||Number.isInteger(v)):k<7?t==='boolean':k<8?Array.isArray(v)&&[...v].every(x=>typeof x==='string'):t==='object'))E(f,'be '+N[k]);\
if(k>7)B=v;return k<2?0:k<6?Math.ceil(v):k<7?+v:k<8?[...v]:0})}")]
extern "C" {
    /// One crossing for an event: `event.data` read, checked to be a string of at most
    /// `max` UTF-16 units, `JSON.parse`d and checked to be a plain object, which is
    /// returned (or null when any step fails). It also notes the event's seq code for
    /// [`seq_code`], comparing `sessionId` with `last` (the JS string of the session
    /// the shell saw last) so a run of one session's events never copies the id.
    #[wasm_bindgen(js_name = r)]
    pub fn read_event(event: &JsValue, max: u32, last: &JsValue) -> JsValue;

    /// The seq code of the last event [`read_event`] returned: `NaN` when `sessionId`
    /// is not a string or `seq` not a non-negative integer; the seq when the session is
    /// `last`; `-1 - seq` when it is another session.
    #[wasm_bindgen(js_name = c)]
    pub fn seq_code() -> f64;

    /// `fetch.call(this, url, { method: 'POST', headers: { 'Content-Type':
    /// 'application/json', 'X-Connection-ID': id }, body })`, the url being
    /// `{config.baseUrl}/api/chat/{path}`, with `config.fetch` (read
    /// now) when it is a function, else `globalThis.fetch`, `this` being the object it
    /// was read from. When `post` is not negative (a POST timeout is configured), plus
    /// the `signal` of a new AbortController (when the platform has one), kept under
    /// `post` (in a map of this `config`'s, i.e. of this connection's) for [`abort`]
    /// until the answer settles. A missing fetch or a synchronous
    /// throw become an already-rejected promise (a network error).
    #[wasm_bindgen(js_name = p)]
    pub fn post(config: &JsValue, path: &str, id: &str, body: &JsValue, post: f64) -> JsValue;

    /// Aborts the POST `post` of the connection whose config is `config` through its
    /// AbortController, if it has one still.
    #[wasm_bindgen(js_name = b)]
    pub fn abort(config: &JsValue, post: f64);

    /// Once `answer` settles (always in a later microtask), cancels its unread body and
    /// calls `callback` with its outcome code: 0 when `ok` is true, the status when it
    /// is a number in 1..=999, else -1 (a network error). The AbortController of the
    /// POST `post` (of the connection whose config is `config`), if any, is forgotten
    /// first.
    #[wasm_bindgen(js_name = w)]
    pub fn when_settled(answer: &JsValue, callback: &JsValue, config: &JsValue, post: f64);

    /// Adds `{ sessionId, lastSeq }` to the session list the next [`sessions_json`] or
    /// [`beacon`] takes.
    #[wasm_bindgen(js_name = a)]
    pub fn push_session(session_id: &str, last_seq: f64);

    /// `JSON.stringify({ type: kind, sessions })` of the sessions pushed so far (the
    /// list is emptied): keys in the existing client's order, its tests compare it.
    #[wasm_bindgen(js_name = j)]
    pub fn sessions_json(kind: &str) -> JsValue;

    /// `navigator.sendBeacon(config.suspendUrl, new Blob([JSON.stringify({ connectionId,
    /// sessions })], { type: 'application/json' }))` of the sessions pushed so far (the
    /// list is emptied), when `sendBeacon` exists and `suspendUrl` is a non-empty
    /// string; any throw is swallowed.
    #[wasm_bindgen(js_name = k)]
    pub fn beacon(config: &JsValue, connection_id: &str);

    /// The `{ type }` notice `_open` (0), `_close` (1) or `_foreground` (2).
    #[wasm_bindgen(js_name = t)]
    pub fn notice(kind: u32) -> JsValue;

    /// `callback.call(null, value)`; a throw is reported with `console.error` (the app's
    /// own exception is never allowed to unwind through the delivery loop).
    #[wasm_bindgen(js_name = x)]
    pub fn call_app(callback: &JsValue, value: &JsValue);

    /// Hands `config.onDelivery` (read now; nothing when it is not a function) the
    /// delivery report `{ status, reason?, httpStatus?, endpoint,
    /// clientMsgId?, message }` (`clientMsgId` when the message has a string one), as
    /// [`call_app`] does. `fate` is 0 for delivered; 1 to 3 for dropped (reason
    /// queue_overflow, stale_retries_exhausted, cleared); 4 to 8 for failed (reason
    /// rejected, stale_connection, server_error, network, timeout).
    #[wasm_bindgen(js_name = d)]
    pub fn report(
        config: &JsValue,
        fate: u32,
        http_status: Option<u16>,
        endpoint: &str,
        message: &JsValue,
    );

    /// Adds the page lifecycle listeners whose target exists (`visibilitychange` on
    /// `document`; `pageshow`, `pagehide`, `online` on `globalThis`), each
    /// `{ passive: true }`, calling `callback` with a code: 0 visible, 1 hidden,
    /// 2 pagehide, 3 pageshow persisted, 4 pageshow not persisted, 5 online. Returns
    /// the list [`remove_listeners`] takes.
    #[wasm_bindgen(js_name = y)]
    pub fn listen_lifecycle(callback: &JsValue) -> JsValue;

    /// Removes every listener of a list [`listen_lifecycle`] returned.
    #[wasm_bindgen(js_name = z)]
    pub fn remove_listeners(list: &JsValue);

    /// Opens `{config.baseUrl}/api/chat/events` with `config.createEventSource` (read now, when it is a function) or
    /// `new EventSource(url)` and puts
    /// the shell's handlers on it: `welcome` as a listener (`{ passive: true }`), every
    /// other event through the `onmessage` property, errors through `onerror` (which
    /// calls `error` with whether readyState is CLOSED). Returns the source, or null
    /// when it could not be made (a throw, or a factory returning no object).
    #[wasm_bindgen(js_name = s)]
    pub fn open_stream(
        config: &JsValue,
        welcome: &JsValue,
        message: &JsValue,
        error: &JsValue,
    ) -> JsValue;

    /// Closes a source [`open_stream`] returned, then detaches its handlers (so
    /// `close()` cannot call back).
    #[wasm_bindgen(js_name = h)]
    pub fn close_stream(source: &JsValue, welcome: &JsValue);

    /// Checks each field of the app's config alone (its type and range) and hands back
    /// one entry per field of its table, in order: undefined when absent, else the
    /// value as a number (milliseconds rounded up, a flag as 0/1, 0 for functions,
    /// strings and `backoff`), or for `retryableEndpoints` a copy of the array (of
    /// strings). Throws an `Error` naming the first bad field: `config.<field> must
    /// be …` (or `config must be an object with a baseUrl`).
    #[wasm_bindgen(js_name = n, catch)]
    pub fn read_config(config: &JsValue) -> Result<JsValue, JsValue>;

    /// `console.warn("[sse-courier] " + text)`.
    #[wasm_bindgen(js_name = v)]
    pub fn warn(text: &str);

    /// `obj[key]`, or `undefined` when `obj` is not an object or the getter throws.
    #[wasm_bindgen(js_name = g)]
    pub fn get(obj: &JsValue, key: &str) -> JsValue;

    /// `obj[index]`, or `undefined` when `obj` is not an object or the getter throws.
    #[wasm_bindgen(js_name = g)]
    pub fn get_at(obj: &JsValue, index: u32) -> JsValue;

    /// The `type` of a message `send()` was given; throws an `Error` saying what is
    /// wrong when the message is not a plain object or its `type` not a string.
    #[wasm_bindgen(js_name = o, catch)]
    pub fn message_type(message: &JsValue) -> Result<JsValue, JsValue>;

    /// `JSON.stringify(message)`, a JS string (the body is never copied through
    /// Rust); throws an `Error` naming JSON (with the cause's message) when it throws
    /// or gives no string.
    #[wasm_bindgen(js_name = e, catch)]
    pub fn message_body(message: &JsValue) -> Result<JsValue, JsValue>;
}

/// Milliseconds since the epoch, read at call time so fake timers (which fake `Date`)
/// drive the core's clock.
pub fn now() -> u64 {
    let ms = js_sys::Date::now();
    if ms > 0.0 {
        ms as u64
    } else {
        0
    }
}

/// A JS number as a non-negative integer, or `None` when it is not one.
pub fn as_count(value: &JsValue) -> Option<u64> {
    let n = value.as_f64()?;
    // In [0, 2^53) the truncation to u64 is exact, so it round-trips iff `n` is whole
    // (`f64::fract` needs std).
    if (0.0..=9_007_199_254_740_991.0).contains(&n) && (n as u64) as f64 == n {
        Some(n as u64)
    } else {
        None
    }
}
