//! `sse-courier-server`: parses the command line, binds 127.0.0.1, announces the port
//! on stdout for scripts, and serves until SIGINT/SIGTERM.

use std::io::Write;
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = match sse_courier_server::parse_args(
        std::env::args().skip(1),
        std::env::var("PORT").ok(),
    ) {
        Ok(cli) => cli,
        Err(err) => {
            eprintln!("sse-courier-server: {err}\n\n{}", sse_courier_server::USAGE);
            return ExitCode::from(2);
        }
    };
    if cli.help {
        println!("{}", sse_courier_server::USAGE);
        return ExitCode::SUCCESS;
    }
    let listener = match tokio::net::TcpListener::bind(("127.0.0.1", cli.port)).await {
        Ok(listener) => listener,
        Err(err) => {
            eprintln!(
                "sse-courier-server: cannot bind 127.0.0.1:{}: {err}",
                cli.port
            );
            return ExitCode::FAILURE;
        }
    };
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(cli.port);
    // The socket is already listening, so connections queue from here on: scripts may
    // connect as soon as they read this line.
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "listening on http://127.0.0.1:{port}");
    let _ = stdout.flush();
    drop(stdout);
    match sse_courier_server::serve(listener, cli.options).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("sse-courier-server: {err}");
            ExitCode::FAILURE
        }
    }
}
