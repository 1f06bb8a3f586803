use super::*;
use wasm_encoder::{
    CodeSection, CustomSection, EntityType, ExportKind, Function, FunctionSection, Instruction,
    MemoryType, TypeSection,
};
use wasmparser::{Validator, WasmFeatures};

/// A module shaped like wasm-bindgen's output: functions imported from the glue and
/// from a snippet, an imported memory-free body, exported functions and memory, and a
/// custom section.
fn sample_module() -> Vec<u8> {
    let mut module = Module::new();
    let mut types = TypeSection::new();
    types.ty().function([], []);
    module.section(&types);
    let mut imports = ImportSection::new();
    imports.import(
        "./sse_courier_bg.js",
        "__wbg_now_0123456789abcdef",
        EntityType::Function(0),
    );
    imports.import(
        "./snippets/x/helper.js",
        "openStream",
        EntityType::Function(0),
    );
    imports.import(
        "./sse_courier_bg.js",
        "__wbindgen_init",
        EntityType::Function(0),
    );
    imports.import(
        "./snippets/x/helper.js",
        "armTimer",
        EntityType::Function(0),
    );
    module.section(&imports);
    let mut functions = FunctionSection::new();
    functions.function(0);
    module.section(&functions);
    let mut memories = wasm_encoder::MemorySection::new();
    memories.memory(MemoryType {
        minimum: 1,
        maximum: None,
        memory64: false,
        shared: false,
        page_size_log2: None,
    });
    module.section(&memories);
    let mut exports = ExportSection::new();
    exports.export("memory", ExportKind::Memory, 0);
    exports.export("connection_send", ExportKind::Func, 4);
    exports.export("__wbindgen_start", ExportKind::Func, 1);
    module.section(&exports);
    let mut code = CodeSection::new();
    let mut body = Function::new([]);
    body.instruction(&Instruction::Call(0));
    body.instruction(&Instruction::End);
    code.function(&body);
    module.section(&code);
    module.section(&CustomSection {
        name: "producers".into(),
        data: b"kept as it was".as_slice().into(),
    });
    module.finish()
}

fn validate(wasm: &[u8]) {
    Validator::new_with_features(WasmFeatures::default())
        .validate_all(wasm)
        .expect("the renamed module is valid");
}

fn names(wasm: &[u8]) -> (Vec<(String, String)>, Vec<String>) {
    let mut imports = Vec::new();
    let mut exports = Vec::new();
    for payload in Parser::new(0).parse_all(wasm) {
        match payload.unwrap() {
            Payload::ImportSection(reader) => {
                for import in reader.into_imports() {
                    let import = import.unwrap();
                    imports.push((import.module.to_string(), import.name.to_string()));
                }
            }
            Payload::ExportSection(reader) => {
                for export in reader {
                    exports.push(export.unwrap().name.to_string());
                }
            }
            _ => {}
        }
    }
    (imports, exports)
}

/// Every section other than imports and exports, as (id, bytes).
fn other_sections(wasm: &[u8]) -> Vec<(u8, Vec<u8>)> {
    Parser::new(0)
        .parse_all(wasm)
        .filter_map(|payload| payload.unwrap().as_section())
        .filter(|(id, _)| *id != 2 && *id != 7)
        .map(|(id, range)| (id, wasm[range.start as usize..range.end as usize].to_vec()))
        .collect()
}

#[test]
fn exports_become_letters_except_those_kept() {
    let plan = Plan {
        keep_exports: vec!["memory".into()],
        rename_modules: false,
    };
    let (renamed, renaming) = rename(&sample_module(), &plan).unwrap();
    validate(&renamed);
    assert_eq!(names(&renamed).1, ["memory", "a", "b"]);
    assert_eq!(renaming.exports["connection_send"], "a");
    assert_eq!(renaming.exports["__wbindgen_start"], "b");
    assert_eq!(renaming.exports["memory"], "memory");
}

#[test]
fn import_fields_are_numbered_per_module_and_modules_kept_by_default() {
    let (renamed, renaming) = rename(&sample_module(), &Plan::default()).unwrap();
    validate(&renamed);
    assert_eq!(
        names(&renamed).0,
        [
            ("./sse_courier_bg.js".into(), "a".into()),
            ("./snippets/x/helper.js".into(), "a".into()),
            ("./sse_courier_bg.js".into(), "b".into()),
            ("./snippets/x/helper.js".into(), "b".into()),
        ]
    );
    assert_eq!(renaming.imports["./snippets/x/helper.js"]["armTimer"], "b");
    assert_eq!(
        renaming.imports["./sse_courier_bg.js"]["__wbg_now_0123456789abcdef"],
        "a"
    );
    assert!(renaming.modules.is_empty());
}

#[test]
fn modules_become_letters_when_asked() {
    let plan = Plan {
        keep_exports: vec![],
        rename_modules: true,
    };
    let (renamed, renaming) = rename(&sample_module(), &plan).unwrap();
    validate(&renamed);
    let modules: Vec<String> = names(&renamed)
        .0
        .into_iter()
        .map(|(module, _)| module)
        .collect();
    assert_eq!(modules, ["a", "b", "a", "b"]);
    assert_eq!(renaming.modules["./snippets/x/helper.js"], "b");
}

#[test]
fn every_other_section_is_copied_byte_for_byte() {
    let original = sample_module();
    let (renamed, _) = rename(&original, &Plan::default()).unwrap();
    assert_eq!(other_sections(&renamed), other_sections(&original));
    assert!(renamed.len() < original.len());
}

#[test]
fn a_kept_export_that_does_not_exist_is_an_error() {
    let plan = Plan {
        keep_exports: vec!["__wbindgen_externrefs".into()],
        rename_modules: false,
    };
    let error = rename(&sample_module(), &plan).unwrap_err();
    assert!(matches!(error, Error::KeptExportMissing(name) if name == "__wbindgen_externrefs"));
}

#[test]
fn bytes_that_are_not_wasm_are_an_error() {
    assert!(matches!(
        rename(b"\0asx\x01\0\0\0", &Plan::default()),
        Err(Error::Parse(_))
    ));
}

#[test]
fn short_names_are_identifiers_and_distinct() {
    let names: Vec<String> = (0..200).map(letter_name).collect();
    let unique: std::collections::BTreeSet<&String> = names.iter().collect();
    assert_eq!(unique.len(), names.len());
    for name in &names {
        let mut chars = name.chars();
        assert!(chars.next().unwrap().is_ascii_alphabetic(), "{name}");
        assert!(chars.all(|c| c.is_ascii_alphanumeric()), "{name}");
    }
    assert_eq!(
        (letter_name(0), letter_name(51), letter_name(52)),
        ("a".into(), "Z".into(), "a1".into())
    );
}

#[test]
fn the_renaming_reads_back_as_json() {
    let (_, renaming) = rename(&sample_module(), &Plan::default()).unwrap();
    let json: serde_json::Value = serde_json::from_str(&renaming.to_json()).unwrap();
    assert_eq!(json["exports"]["connection_send"], "b");
    assert_eq!(json["imports"]["./snippets/x/helper.js"]["openStream"], "a");
    assert!(json["modules"].as_object().unwrap().is_empty());
}
