//! CSV/TSV tables: any bytes give a table or an error, never a panic; and the block reader
//! (`--online`, 3 rows at a time) agrees with the whole-file reader: the same rows, or an error.
#![no_main]
use libfuzzer_sys::fuzz_target;

use einmix_io::text::{parse, TableReader};

fuzz_target!(|input: &[u8]| {
    // The first byte picks the delimiter and which columns to select.
    let Some((&choice, bytes)) = input.split_first() else { return };
    let delimiter = if choice & 1 == 0 { b',' } else { b'\t' };
    let select: Vec<String> = match choice >> 1 & 3 {
        0 => vec![],
        1 => vec!["1".into()],
        2 => vec!["x".into(), "2".into()],
        _ => vec!["0".into()],
    };
    let weight = (choice & 16 != 0).then_some("w");
    let whole = parse(bytes, delimiter, &select, weight);
    // By content too, as the CLI and Python read a file of unknown extension.
    let _ = einmix_io::read_data(None, bytes, &select, weight);
    let Ok(mut reader) = TableReader::new(bytes, delimiter, &select, weight) else {
        assert!(whole.is_err(), "the block reader refused what the whole-file reader read");
        return;
    };
    // Values and rows both: a table of no feature columns (only a weight) has rows, no values.
    let (mut rows, mut n_rows) = (Vec::new(), 0);
    loop {
        match reader.next_block(3) {
            Ok(Some(block)) => {
                rows.extend(block.x.iter().copied());
                n_rows += block.x.nrows();
            }
            // No row at all: the whole-file reader calls that empty.
            Ok(None) if n_rows == 0 => {
                assert!(whole.is_err(), "no rows, but the whole-file reader read a table");
                return;
            }
            Ok(None) => {
                let table = whole.expect("the block reader read what the whole-file reader refused");
                assert_eq!(rows, table.x.iter().copied().collect::<Vec<_>>());
                assert_eq!(n_rows, table.x.nrows());
                return;
            }
            Err(_) => {
                assert!(whole.is_err(), "the block reader failed where the whole-file reader did not");
                return;
            }
        }
    }
});
