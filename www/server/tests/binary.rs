//! The `sse-courier-server` binary as scripts use it: announce the port, serve, stop
//! on SIGTERM.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_sse-courier-server");

#[test]
fn prints_its_port_serves_and_exits_cleanly_on_sigterm_with_a_stream_open() {
    let (mut child, port, mut stdout) = start(&["--port", "0", "--heartbeat-ms", "1000"]);

    // An open SSE stream must not hold the shutdown up.
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .write_all(b"GET /api/chat/events HTTP/1.1\r\nhost: x\r\n\r\n")
        .unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut head = [0u8; 512];
    let n = stream.read(&mut head).unwrap();
    let head = String::from_utf8_lossy(&head[..n]);
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(
        head.to_ascii_lowercase().contains("text/event-stream"),
        "{head}"
    );

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "exit status {status}");
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "server did not stop"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    assert_eq!(rest, "", "stdout carries only the listening line");
}

#[test]
fn rejects_an_unknown_flag_with_usage_and_exit_code_2() {
    let output = Command::new(BIN).arg("--frobnicate").output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--frobnicate") && stderr.contains("usage:"),
        "{stderr}"
    );
}

#[test]
fn untied_sends_on_the_command_line_reaches_the_server() {
    let (mut child, port, _stdout) = start(&["--port", "0", "--untied-sends"]);

    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    // A send naming a connection nobody opened, as after a restart.
    let body = r#"{"type":"send","sessionId":"s","clientMsgId":"m1","prompt":"x"}"#;
    write!(
        stream,
        "POST /api/chat/send HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\
         content-type: application/json\r\nx-connection-id: made-up\r\n\
         content-length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    let read = stream.read_to_string(&mut answer);
    child.kill().unwrap();
    child.wait().unwrap();
    read.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains(r#""accepted":true"#), "{answer}");
}

/// The server binary started with `args`, the port its first line says it listens on,
/// and the rest of its stdout.
fn start(args: &[&str]) -> (Child, u16, BufReader<ChildStdout>) {
    let mut child = Command::new(BIN)
        .args(args)
        .env_remove("PORT")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let port: u16 = line
        .trim()
        .strip_prefix("listening on http://127.0.0.1:")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .parse()
        .unwrap();
    (child, port, stdout)
}
