//! The split app's static data, placed where it is safe. wasm-split-cli
//! gives each part the data of the statics it takes to be that part's
//! alone, written into the shared memory when the part is instantiated. It
//! decides at the level of the linker's data symbols, and slices a static
//! when modules refer to different places inside it: tachys's render queue
//! and global event table (thread-locals the first module uses) had slices
//! in parts, which loading the part would reset under the running page, and
//! a read-only table sliced so would read as zeros in the first module
//! until the part came. So a part keeps only read-only data of statics the
//! first module has no byte of; the rest (every mutable static, and every
//! slice of a static the first module also holds) moves into the first
//! module, where memory starts as the unsplit app's does.

use std::{ops::Range, path::Path};

use anyhow::{Context, bail};
use wasm_encoder::{ConstExpr, DataCountSection, DataSection, Module, RawSection};
use wasmparser::{DataKind, KnownCustom, Linking, Operator, Parser, Payload, SymbolInfo};

/// An active data segment: where it goes in memory 0, and its bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Segment {
    offset: i32,
    bytes: Vec<u8>,
}

impl Segment {
    fn range(&self) -> Range<u32> {
        let start = self.offset as u32;
        start..start + self.bytes.len() as u32
    }
}

/// What the linked module, before the split, says of its statics.
#[derive(Debug, PartialEq, Eq)]
struct Statics {
    /// Where the read-only data lies in memory.
    read_only: Range<u32>,
    /// The memory of each static that holds no smaller one, by start.
    leaves: Vec<Range<u32>>,
}

impl Statics {
    /// Reads `linked`'s data segments and its `linking` section (kept by
    /// `--emit-relocs`): the `.rodata` segment and every defined data symbol.
    fn of(linked: &[u8]) -> anyhow::Result<Self> {
        let mut starts = Vec::new();
        let mut names = Vec::new();
        let mut symbols = Vec::new();
        for payload in Parser::new(0).parse_all(linked) {
            match payload? {
                Payload::DataSection(reader) => {
                    for data in reader {
                        let data = data?;
                        starts.push((active_offset(&data.kind)? as u32, data.data.len() as u32));
                    }
                }
                Payload::CustomSection(custom) => {
                    if let KnownCustom::Linking(linking) = custom.as_known() {
                        for subsection in linking {
                            match subsection? {
                                Linking::SegmentInfo(segments) => {
                                    for segment in segments {
                                        names.push(segment?.name.to_owned());
                                    }
                                }
                                Linking::SymbolTable(table) => {
                                    for symbol in table {
                                        if let SymbolInfo::Data { symbol: Some(defined), .. } = symbol?
                                            && defined.size > 0
                                        {
                                            symbols.push(defined);
                                        }
                                    }
                                }
                                _ => {}
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        let read_only = names
            .iter()
            .position(|name| name == ".rodata")
            .and_then(|index| starts.get(index))
            .map(|(start, length)| *start..start + length)
            .context("the linked module names no .rodata segment (was it linked with --emit-relocs?)")?;
        let mut ranges = symbols
            .iter()
            .map(|symbol| {
                let (start, _) =
                    starts.get(symbol.index as usize).context("a symbol in a segment that is not there")?;
                let start = start + symbol.offset;
                Ok(start..start + symbol.size)
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(Self { read_only, leaves: leaves(&mut ranges) })
    }

    /// Whether a part may keep `segment`: read-only, and of statics the
    /// linker told of that the first module (whose data is `main`) has no
    /// byte of.
    fn stays_in_part(&self, segment: &Range<u32>, main: &[Range<u32>]) -> bool {
        let overlaps = |a: &Range<u32>, b: &Range<u32>| a.start < b.end && b.start < a.end;
        let mut statics = self.leaves.iter().filter(|leaf| overlaps(leaf, segment)).peekable();
        segment.start >= self.read_only.start
            && segment.end <= self.read_only.end
            && statics.peek().is_some()
            && statics.all(|leaf| !main.iter().any(|held| overlaps(held, leaf)))
    }
}

/// The ranges that hold no other, by start.
fn leaves(ranges: &mut Vec<Range<u32>>) -> Vec<Range<u32>> {
    ranges.sort_by_key(|range| (range.start, std::cmp::Reverse(range.end)));
    ranges.dedup();
    (0..ranges.len())
        .filter(|&at| {
            let outer = &ranges[at];
            !ranges[at + 1..]
                .iter()
                .take_while(|inner| inner.start < outer.end)
                .any(|inner| inner.end <= outer.end)
        })
        .map(|at| ranges[at].clone())
        .collect()
}

fn active_offset(kind: &DataKind) -> anyhow::Result<i32> {
    let DataKind::Active { memory_index: 0, offset_expr } = kind else {
        bail!(
            "a passive data segment, or one for another memory: not what the linker or wasm-split-cli writes"
        );
    };
    let mut operators = offset_expr.get_operators_reader();
    let Operator::I32Const { value } = operators.read()? else {
        bail!("a data segment placed by an expression other than i32.const");
    };
    Ok(value)
}

/// Moves into `main` the data segments of `parts` that are not safe in a
/// part (see the module's comment), rewriting the files; `linked` is the
/// module before the split.
pub fn gather_into_main(main: &Path, parts: &[std::path::PathBuf], linked: &Path) -> anyhow::Result<()> {
    let read = |path: &Path| std::fs::read(path).with_context(|| format!("cannot read {}", path.display()));
    let statics = Statics::of(&read(linked)?)?;
    let main_bytes = read(main)?;
    let held: Vec<Range<u32>> = segments(&main_bytes)?.iter().map(Segment::range).collect();
    let mut gathered = Vec::new();
    for part in parts {
        let stays = |segment: &Segment| statics.stays_in_part(&segment.range(), &held);
        let (rewritten, own) = rewrite(&read(part)?, stays, Vec::new())
            .with_context(|| format!("cannot move the data segments out of {}", part.display()))?;
        std::fs::write(part, rewritten)?;
        gathered.extend(own.into_iter().filter(|segment| !stays(segment)));
    }
    let (rewritten, _) = rewrite(&main_bytes, |_| true, gathered)
        .with_context(|| format!("cannot add the parts' data segments to {}", main.display()))?;
    std::fs::write(main, rewritten)?;
    Ok(())
}

/// The data segments of `module` that hold any bytes.
fn segments(module: &[u8]) -> anyhow::Result<Vec<Segment>> {
    let mut found = Vec::new();
    for payload in Parser::new(0).parse_all(module) {
        if let Payload::DataSection(reader) = payload? {
            for data in reader {
                let data = data?;
                let offset = active_offset(&data.kind)?;
                if !data.data.is_empty() {
                    found.push(Segment { offset, bytes: data.data.to_vec() });
                }
            }
        }
    }
    Ok(found)
}

/// `module` keeping the data segments `stays` holds for, with `added`
/// after them; and all the segments it had. Every other section is copied
/// as it is.
fn rewrite(
    module: &[u8],
    stays: impl Fn(&Segment) -> bool,
    added: Vec<Segment>,
) -> anyhow::Result<(Vec<u8>, Vec<Segment>)> {
    let own = segments(module)?;
    let written: Vec<&Segment> = own.iter().filter(|segment| stays(segment)).chain(&added).collect();
    let mut out = Module::new();
    let mut data_written = false;
    let write_data = |out: &mut Module| {
        if !written.is_empty() {
            let mut section = DataSection::new();
            for segment in &written {
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
                if !written.is_empty() {
                    out.section(&DataCountSection { count: written.len() as u32 });
                }
            }
            // Custom sections come after the data section; a module without
            // one gets it where it would be.
            Payload::CustomSection(_) | Payload::End(_) if !data_written && !written.is_empty() => {
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

    /// A module with one memory and nothing else yet.
    fn with_memory() -> Module {
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
        module
    }

    /// A module with one memory, `segments` and a custom section after them.
    fn module(segments: &[(i32, &[u8])]) -> Vec<u8> {
        let mut module = with_memory();
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

    /// A linked module: `segments` named, `symbols` as (segment, offset,
    /// size), in a `linking` section as the linker writes it (every number
    /// here fits one byte of LEB128).
    fn linked(segments: &[(i32, &[u8], &str)], symbols: &[(u8, u8, u8)]) -> Vec<u8> {
        let mut module = with_memory();
        let mut data = DataSection::new();
        for (offset, bytes, _) in segments {
            data.active(0, &ConstExpr::i32_const(*offset), bytes.iter().copied());
        }
        module.section(&data);
        let mut segment_info = vec![segments.len() as u8];
        for (_, _, name) in segments {
            segment_info.extend([name.len() as u8]);
            segment_info.extend(name.as_bytes());
            segment_info.extend([0, 0]);
        }
        let mut symbol_table = vec![symbols.len() as u8];
        for (index, (segment, offset, size)) in symbols.iter().enumerate() {
            let name = format!("s{index}");
            symbol_table.extend([1, 0, name.len() as u8]);
            symbol_table.extend(name.as_bytes());
            symbol_table.extend([*segment, *offset, *size]);
        }
        let mut linking = vec![2, 5, segment_info.len() as u8];
        linking.extend(segment_info);
        linking.extend([8, symbol_table.len() as u8]);
        linking.extend(symbol_table);
        module.section(&CustomSection { name: "linking".into(), data: linking.as_slice().into() });
        module.finish()
    }

    #[test]
    fn the_linked_module_tells_the_read_only_data_and_the_smallest_statics() {
        let module = linked(
            &[(64, &[7; 40], ".rodata"), (104, &[1; 8], ".data")],
            // A pool of two strings holding both, and a static in .data.
            &[(0, 0, 20), (0, 0, 8), (0, 8, 12), (0, 24, 16), (0, 24, 16), (1, 0, 8)],
        );
        let statics = Statics::of(&module).unwrap();
        assert_eq!(statics.read_only, 64..104);
        assert_eq!(statics.leaves, vec![64..72, 72..84, 88..104, 104..112], "the pool holds smaller ones");
    }

    #[test]
    fn a_part_keeps_only_read_only_data_of_statics_the_first_module_holds_none_of() {
        let statics = Statics { read_only: 100..200, leaves: vec![100..110, 110..140, 150..160, 200..224] };
        let main = [104..108, 200..208];
        assert!(statics.stays_in_part(&(110..120), &main), "a static the first module has no byte of");
        assert!(statics.stays_in_part(&(112..140), &main), "two parts may each have a piece of it");
        assert!(!statics.stays_in_part(&(100..104), &main), "a slice of a static the first module holds");
        assert!(!statics.stays_in_part(&(108..116), &main), "one of its statics is the first module's too");
        assert!(!statics.stays_in_part(&(208..216), &main), "mutable: its bytes would be reset on loading");
        assert!(!statics.stays_in_part(&(160..170), &[]), "of no static the linker told of");
    }

    #[test]
    fn a_parts_segments_move_to_the_main_module_and_the_rest_is_kept() {
        let main = module(&[(16, b"main")]);
        let part = module(&[(32, b"part"), (48, b""), (64, b"stays")]);
        let stays = |segment: &Segment| segment.offset == 64;
        let (part_after, own) = rewrite(&part, stays, Vec::new()).unwrap();
        assert_eq!(own.len(), 2, "empty segments are dropped");
        let moved: Vec<Segment> = own.into_iter().filter(|segment| !stays(segment)).collect();
        assert_eq!(moved, vec![Segment { offset: 32, bytes: b"part".to_vec() }]);
        assert_eq!(part_after, module(&[(64, b"stays")]), "the part keeps its memory and custom section");
        let (main_after, own) = rewrite(&main, |_| true, moved).unwrap();
        assert_eq!(own, segments(&main).unwrap());
        assert_eq!(main_after, module(&[(16, b"main"), (32, b"part")]));
        wasmparser::Validator::new().validate_all(&main_after).expect("a valid module");
    }

    #[test]
    fn a_main_module_without_data_of_its_own_gets_the_parts() {
        let (main_after, _) =
            rewrite(&module(&[]), |_| true, vec![Segment { offset: 8, bytes: b"x".to_vec() }]).unwrap();
        assert_eq!(main_after, module(&[(8, b"x")]));
    }
}
