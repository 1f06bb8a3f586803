//! Command-line parsing, kept by hand to spare the dependency tree a parser crate.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use crate::Options;

/// Shown for `--help` and after a usage error.
pub const USAGE: &str = "\
usage: sse-courier-server [--port N] [--static-dir DIR] [--heartbeat-ms MS]
                          [--agent-delay-ms MS] [--agent-deltas N] [--no-agent]
                          [--sse-retry-ms MS] [--untied-sends]

  --port N            port on 127.0.0.1 (default: $PORT, else 0 = any free port)
  --static-dir DIR    serve DIR at / (the demo page and the built package)
  --heartbeat-ms MS   heartbeat event interval (default 15000)
  --agent-delay-ms MS pause between the agent's reply events (default 5; 0 = instant)
  --agent-deltas N    block_delta events per reply (default 3)
  --no-agent          accept sends without producing any events (benchmarks)
  --sse-retry-ms MS   send `retry: MS` with each welcome: EventSource's own
                      reconnect delay after a stream ends (default: browser's)
  --untied-sends      a send with a clientMsgId naming an unknown connection is
                      processed as one without X-Connection-ID, not refused 404
                      (a server whose /send is not tied to a stream)

Prints `listening on http://127.0.0.1:PORT` once it accepts connections.
The test control API lives under /api/test/ (see www/server/README.md).";

/// What the command line asks for.
#[derive(Debug, Clone)]
pub struct Cli {
    pub port: u16,
    pub options: Options,
    pub help: bool,
}

/// A command line that cannot be obeyed; the message names the offending argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CliError(pub String);

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CliError {}

/// Parses the arguments after the program name; `env_port` is `$PORT`, which a flag
/// overrides.
pub fn parse_args<I>(args: I, env_port: Option<String>) -> Result<Cli, CliError>
where
    I: IntoIterator<Item = String>,
{
    let mut cli = Cli {
        port: 0,
        options: Options::default(),
        help: false,
    };
    if let Some(port) = env_port.filter(|p| !p.trim().is_empty()) {
        cli.port = number(&port, "PORT")?;
    }
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        // Both `--flag value` and `--flag=value`.
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => {
                (flag.to_string(), Some(value.to_string()))
            }
            _ => (arg.clone(), None),
        };
        let mut value = |name: &str| -> Result<String, CliError> {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| CliError(format!("{name} needs a value")))
        };
        match flag.as_str() {
            "-h" | "--help" => cli.help = true,
            "--port" => cli.port = number(&value("--port")?, "--port")?,
            "--static-dir" => cli.options.static_dir = Some(PathBuf::from(value("--static-dir")?)),
            "--heartbeat-ms" => {
                let ms: u64 = number(&value("--heartbeat-ms")?, "--heartbeat-ms")?;
                if ms == 0 {
                    return Err(CliError("--heartbeat-ms must be at least 1".into()));
                }
                cli.options.heartbeat = Duration::from_millis(ms);
            }
            "--agent-delay-ms" => {
                let ms: u64 = number(&value("--agent-delay-ms")?, "--agent-delay-ms")?;
                cli.options.agent.delay = Duration::from_millis(ms);
            }
            "--agent-deltas" => {
                cli.options.agent.deltas = number(&value("--agent-deltas")?, "--agent-deltas")?
            }
            "--no-agent" => cli.options.agent.enabled = false,
            "--untied-sends" => cli.options.untied_sends = true,
            "--sse-retry-ms" => {
                let ms: u64 = number(&value("--sse-retry-ms")?, "--sse-retry-ms")?;
                cli.options.sse_retry = Some(Duration::from_millis(ms));
            }
            other => return Err(CliError(format!("unknown argument: {other}"))),
        }
    }
    Ok(cli)
}

fn number<T: std::str::FromStr>(text: &str, name: &str) -> Result<T, CliError> {
    text.trim()
        .parse()
        .map_err(|_| CliError(format!("{name}: not a valid number: {text:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str], env: Option<&str>) -> Result<Cli, CliError> {
        parse_args(args.iter().map(|s| s.to_string()), env.map(String::from))
    }

    #[test]
    fn defaults_to_any_free_port_and_fifteen_second_heartbeats() {
        let cli = parse(&[], None).unwrap();
        assert_eq!(cli.port, 0);
        assert_eq!(cli.options.heartbeat, Duration::from_secs(15));
        assert!(cli.options.static_dir.is_none());
        assert!(cli.options.sse_retry.is_none());
        assert!(!cli.options.untied_sends, "sends are tied unless asked");
    }

    #[test]
    fn untied_sends_is_a_flag_shown_in_the_usage() {
        assert!(
            parse(&["--untied-sends"], None)
                .unwrap()
                .options
                .untied_sends
        );
        let cli = parse(&["--untied-sends", "--port", "9002"], None).unwrap();
        assert!(cli.options.untied_sends);
        assert_eq!(cli.port, 9002, "takes no value of its own");
        assert!(USAGE.contains("[--untied-sends]"));
        assert!(USAGE.contains("\n  --untied-sends "));
        assert!(parse(&["--untied"], None).is_err());
    }

    #[test]
    fn port_flag_overrides_port_env() {
        assert_eq!(parse(&[], Some("8080")).unwrap().port, 8080);
        assert_eq!(parse(&["--port", "9000"], Some("8080")).unwrap().port, 9000);
        assert_eq!(parse(&["--port=9001"], None).unwrap().port, 9001);
    }

    #[test]
    fn reads_every_flag() {
        let cli = parse(
            &[
                "--static-dir",
                "www",
                "--heartbeat-ms",
                "250",
                "--agent-delay-ms",
                "0",
                "--agent-deltas",
                "7",
                "--no-agent",
                "--sse-retry-ms=500",
            ],
            None,
        )
        .unwrap();
        assert_eq!(cli.options.static_dir, Some(PathBuf::from("www")));
        assert_eq!(cli.options.heartbeat, Duration::from_millis(250));
        assert_eq!(cli.options.agent.delay, Duration::ZERO);
        assert_eq!(cli.options.agent.deltas, 7);
        assert!(!cli.options.agent.enabled);
        assert_eq!(cli.options.sse_retry, Some(Duration::from_millis(500)));
    }

    #[test]
    fn rejects_bad_arguments_naming_them() {
        assert!(parse(&["--port", "x"], None)
            .unwrap_err()
            .0
            .contains("--port"));
        assert!(parse(&["--port"], None)
            .unwrap_err()
            .0
            .contains("needs a value"));
        assert!(parse(&["--bogus"], None).unwrap_err().0.contains("--bogus"));
        assert!(parse(&[], Some("http")).unwrap_err().0.contains("PORT"));
        assert!(parse(&["--heartbeat-ms", "0"], None).is_err());
        assert!(parse(&["--sse-retry-ms", "soon"], None)
            .unwrap_err()
            .0
            .contains("--sse-retry-ms"));
    }
}
