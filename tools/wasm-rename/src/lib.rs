//! Renames a wasm module's imports and exports to short names, and says how.
//!
//! wasm-bindgen names what the wasm imports and exports for people and for its own
//! bookkeeping (`connection_send`, `__wbg_now_e3a1b2c4d5f60718`, a JS module's path);
//! each name is spelt in the wasm and again in the JS glue, and the hashes do not
//! compress. The package build shortens them: this crate rewrites the import and
//! export sections (every other section is copied byte for byte) and returns the
//! [`Renaming`], from which the build renames the glue alike
//! (`tools/wasm-rename/glue.mjs`).
//!
//! Short names are JS identifiers (`a`..`Z`, then `a1`..), so the glue can use them as
//! property names and export names. Exports are numbered together, each module's
//! imports apart: each set of names is the keys of one JS object.

use std::collections::BTreeMap;

use wasm_encoder::{ExportKind, ExportSection, ImportSection, Module, RawSection};
use wasmparser::{Parser, Payload};

/// What to rename.
#[derive(Clone, Debug, Default)]
pub struct Plan {
    /// Exports that keep their name (something outside the glue reads them by name).
    pub keep_exports: Vec<String>,
    /// Also rename the import modules (`"./sse_courier_bg.js"`, a snippet's path) to
    /// short names: right when the glue builds the imports object itself (wasm-bindgen's
    /// `web` target), wrong when the module names are paths a bundler resolves.
    pub rename_modules: bool,
}

/// Old name to new name, for each kind of name the module holds. Ordered maps, so the
/// JSON the CLI writes is stable.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Renaming {
    pub exports: BTreeMap<String, String>,
    /// By (old) module name: each imported field's new name.
    pub imports: BTreeMap<String, BTreeMap<String, String>>,
    /// Empty unless [`Plan::rename_modules`].
    pub modules: BTreeMap<String, String>,
}

#[derive(Debug)]
pub enum Error {
    /// The input is not a wasm module wasmparser can read.
    Parse(wasmparser::BinaryReaderError),
    /// Two exports share a name, so a renaming could not tell them apart.
    DuplicateExport(String),
    /// An import or export of a kind the encoder cannot write back.
    Unsupported(String),
    /// A name in [`Plan::keep_exports`] that the module does not export.
    KeptExportMissing(String),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Parse(error) => write!(f, "not a readable wasm module: {error}"),
            Error::DuplicateExport(name) => write!(f, "the export {name:?} appears twice"),
            Error::Unsupported(what) => write!(f, "cannot re-encode {what}"),
            Error::KeptExportMissing(name) => write!(f, "--keep-export {name}: no such export"),
        }
    }
}

impl std::error::Error for Error {}

impl From<wasmparser::BinaryReaderError> for Error {
    fn from(error: wasmparser::BinaryReaderError) -> Self {
        Error::Parse(error)
    }
}

const LETTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// The `n`th short name: `a`..`Z`, then `a1`..`Z1`, `a2`..: never a JS keyword.
pub fn letter_name(n: usize) -> String {
    let letter = LETTERS[n % LETTERS.len()] as char;
    match n / LETTERS.len() {
        0 => letter.to_string(),
        round => format!("{letter}{round}"),
    }
}

/// The module with its imports and exports renamed, and the renaming.
pub fn rename(wasm: &[u8], plan: &Plan) -> Result<(Vec<u8>, Renaming), Error> {
    let mut renaming = Renaming::default();
    let mut module = Module::new();
    for payload in Parser::new(0).parse_all(wasm) {
        let payload = payload?;
        match &payload {
            Payload::ImportSection(reader) => {
                let mut section = ImportSection::new();
                for import in reader.clone().into_imports() {
                    let import = import?;
                    let ty = wasm_encoder::EntityType::try_from(import.ty)
                        .map_err(|_| Error::Unsupported(format!("the import {}", import.name)))?;
                    let fields = renaming
                        .imports
                        .entry(import.module.to_string())
                        .or_default();
                    let field = fields.len();
                    let field = fields
                        .entry(import.name.to_string())
                        .or_insert_with(|| letter_name(field))
                        .clone();
                    let module_name = if plan.rename_modules {
                        let next = renaming.modules.len();
                        renaming
                            .modules
                            .entry(import.module.to_string())
                            .or_insert_with(|| letter_name(next))
                            .clone()
                    } else {
                        import.module.to_string()
                    };
                    section.import(&module_name, &field, ty);
                }
                module.section(&section);
            }
            Payload::ExportSection(reader) => {
                let mut section = ExportSection::new();
                let mut letters = 0;
                for export in reader.clone() {
                    let export = export?;
                    let name = if plan.keep_exports.iter().any(|kept| kept == export.name) {
                        export.name.to_string()
                    } else {
                        letters += 1;
                        letter_name(letters - 1)
                    };
                    let old = export.name.to_string();
                    if renaming.exports.insert(old.clone(), name.clone()).is_some() {
                        return Err(Error::DuplicateExport(old));
                    }
                    section.export(&name, ExportKind::from(export.kind), export.index);
                }
                module.section(&section);
            }
            other => {
                if let Some((id, range)) = other.as_section() {
                    let range = range.start as usize..range.end as usize;
                    module.section(&RawSection {
                        id,
                        data: &wasm[range],
                    });
                }
            }
        }
    }
    if let Some(missing) = plan
        .keep_exports
        .iter()
        .find(|kept| !renaming.exports.contains_key(*kept))
    {
        return Err(Error::KeptExportMissing(missing.clone()));
    }
    Ok((module.finish(), renaming))
}

impl Renaming {
    /// The renaming as JSON: `{ "exports": {old: new}, "imports": {module: {old: new}},
    /// "modules": {old: new} }`.
    pub fn to_json(&self) -> String {
        let json = serde_json::json!({
            "exports": self.exports,
            "imports": self.imports,
            "modules": self.modules,
        });
        serde_json::to_string_pretty(&json).expect("maps of strings serialise")
    }
}

#[cfg(test)]
mod tests;
