//! `wasm-rename <in.wasm> <out.wasm> <renaming.json> [--rename-modules] [--keep-export NAME]...`
//!
//! Writes the renamed module and the renaming (see the library's docs).

use std::process::ExitCode;

use wasm_rename::{rename, Plan};

const USAGE: &str =
    "usage: wasm-rename <in.wasm> <out.wasm> <renaming.json> [--rename-modules] [--keep-export NAME]...";

fn main() -> ExitCode {
    match run(std::env::args().skip(1).collect()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("wasm-rename: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Vec<String>) -> Result<(), String> {
    let mut plan = Plan::default();
    let mut paths = Vec::new();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--rename-modules" => plan.rename_modules = true,
            "--keep-export" => plan.keep_exports.push(
                args.next()
                    .ok_or(format!("--keep-export needs a name\n{USAGE}"))?,
            ),
            flag if flag.starts_with("--") => {
                return Err(format!("unknown option {flag}\n{USAGE}"))
            }
            _ => paths.push(arg),
        }
    }
    let [input, output, renaming_file] = paths.as_slice() else {
        return Err(USAGE.to_string());
    };
    let wasm = std::fs::read(input).map_err(|e| format!("{input}: {e}"))?;
    let (renamed, renaming) = rename(&wasm, &plan).map_err(|e| format!("{input}: {e}"))?;
    std::fs::write(output, renamed).map_err(|e| format!("{output}: {e}"))?;
    std::fs::write(renaming_file, renaming.to_json())
        .map_err(|e| format!("{renaming_file}: {e}"))?;
    Ok(())
}
