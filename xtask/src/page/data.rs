//! The split app's static data, all in the first module. wasm-split-cli
//! gives each part the data segments of the statics it takes to be that
//! part's alone, and a part writes them into the shared memory when it is
//! instantiated. Some are the first module's too (the document part carried
//! the initial bytes of tachys's render queue), so loading a part would
//! reset them under the running page. With every segment in the first
//! module, memory starts as the unsplit app's does and a part brings only
//! code.

use std::path::Path;

use anyhow::{Context, bail};
use wasm_encoder::{ConstExpr, DataCountSection, DataSection, Module, RawSection};
use wasmparser::{DataKind, Operator, Parser, Payload};

/// An active data segment: where it goes in memory 0, and its bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Segment {
    offset: i32,
    bytes: Vec<u8>,
}

/// Moves every data segment of each of `parts` into `main`, rewriting the files.
pub fn gather_into_main(main: &Path, parts: &[std::path::PathBuf]) -> anyhow::Result<()> {
    let mut gathered = Vec::new();
    for part in parts {
        let bytes = std::fs::read(part).with_context(|| format!("cannot read {}", part.display()))?;
        let (rewritten, segments) = rewrite(&bytes, Vec::new())
            .with_context(|| format!("cannot move the data segments out of {}", part.display()))?;
        std::fs::write(part, rewritten)?;
        gathered.extend(segments);
    }
    let bytes = std::fs::read(main).with_context(|| format!("cannot read {}", main.display()))?;
    let (rewritten, _) = rewrite(&bytes, gathered)
        .with_context(|| format!("cannot add the parts' data segments to {}", main.display()))?;
    std::fs::write(main, rewritten)?;
    Ok(())
}

/// `module` with `added` appended to its data segments when given, or
/// with none of its own when not; and the segments it had. Every other
/// section is copied as it is.
fn rewrite(module: &[u8], added: Vec<Segment>) -> anyhow::Result<(Vec<u8>, Vec<Segment>)> {
    let keep_own = !added.is_empty();
    let mut own = Vec::new();
    for payload in Parser::new(0).parse_all(module) {
        if let Payload::DataSection(reader) = payload? {
            for data in reader {
                let data = data?;
                let DataKind::Active { memory_index: 0, offset_expr } = data.kind else {
                    bail!(
                        "a passive data segment, or one for another memory: not what wasm-split-cli writes"
                    );
                };
                let mut operators = offset_expr.get_operators_reader();
                let Operator::I32Const { value } = operators.read()? else {
                    bail!("a data segment placed by an expression other than i32.const");
                };
                if !data.data.is_empty() {
                    own.push(Segment { offset: value, bytes: data.data.to_vec() });
                }
            }
        }
    }
    let segments: Vec<&Segment> = if keep_own { own.iter().chain(&added).collect() } else { Vec::new() };
    let mut out = Module::new();
    let mut data_written = false;
    let write_data = |out: &mut Module| {
        if !segments.is_empty() {
            let mut section = DataSection::new();
            for segment in &segments {
                section.active(0, &ConstExpr::i32_const(segment.offset), segment.bytes.iter().copied());
            }
            out.section(&section);
        }
    };
    for payload in Parser::new(0).parse_all(module) {
        let payload = payload?;
        match &payload {
            Payload::DataSection(_) => {
                write_data(&mut out);
                data_written = true;
            }
            Payload::DataCountSection { .. } => {
                if !segments.is_empty() {
                    out.section(&DataCountSection { count: segments.len() as u32 });
                }
            }
            // Custom sections come after the data section; a module without
            // one gets it where it would be.
            Payload::CustomSection(_) | Payload::End(_) if !data_written && !segments.is_empty() => {
                write_data(&mut out);
                data_written = true;
                if let Some((id, range)) = payload.as_section() {
                    out.section(&RawSection { id, data: &module[range.start as usize..range.end as usize] });
                }
            }
            _ => {
                if let Some((id, range)) = payload.as_section() {
                    out.section(&RawSection { id, data: &module[range.start as usize..range.end as usize] });
                }
            }
        }
    }
    Ok((out.finish(), own))
}

#[cfg(test)]
mod tests {
    use wasm_encoder::{CustomSection, MemorySection, MemoryType};

    use super::*;

    /// A module with one memory, `segments` and a custom section after them.
    fn module(segments: &[(i32, &[u8])]) -> Vec<u8> {
        let mut module = Module::new();
        let mut memories = MemorySection::new();
        memories.memory(MemoryType {
            minimum: 1,
            maximum: None,
            memory64: false,
            shared: false,
            page_size_log2: None,
        });
        module.section(&memories);
        if !segments.is_empty() {
            let mut data = DataSection::new();
            for (offset, bytes) in segments {
                data.active(0, &ConstExpr::i32_const(*offset), bytes.iter().copied());
            }
            module.section(&data);
        }
        module.section(&CustomSection { name: "producers".into(), data: b"kept".as_slice().into() });
        module.finish()
    }

    fn segments_of(module: &[u8]) -> Vec<Segment> {
        rewrite(module, Vec::new()).unwrap().1
    }

    #[test]
    fn a_parts_segments_move_to_the_main_module_and_the_rest_is_kept() {
        let main = module(&[(16, b"main")]);
        let part = module(&[(32, b"part"), (48, b"")]);
        let (part_after, moved) = rewrite(&part, Vec::new()).unwrap();
        assert_eq!(
            moved,
            vec![Segment { offset: 32, bytes: b"part".to_vec() }],
            "empty segments are dropped"
        );
        assert_eq!(part_after, module(&[]), "the part keeps its memory and custom section, no data");
        let (main_after, own) = rewrite(&main, moved).unwrap();
        assert_eq!(own, segments_of(&main));
        assert_eq!(main_after, module(&[(16, b"main"), (32, b"part")]));
        wasmparser::Validator::new().validate_all(&main_after).expect("a valid module");
    }

    #[test]
    fn a_main_module_without_data_of_its_own_gets_the_parts() {
        let (main_after, _) =
            rewrite(&module(&[]), vec![Segment { offset: 8, bytes: b"x".to_vec() }]).unwrap();
        assert_eq!(main_after, module(&[(8, b"x")]));
    }
}
