//! What an input holds, from its extension and its first bytes.

use std::path::Path;

use crate::error::ReadError;
use crate::npy;
use crate::text;

/// How an input data file is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputFormat {
    /// A `.npy` array.
    Npy,
    /// A `.npz` archive of `.npy` arrays.
    Npz,
    /// A delimited text table, with its delimiter.
    Text(u8),
}

/// Whether `bytes` start like a zip archive: a local file header, or the end-of-directory
/// record that is all an archive of no files holds (`numpy.savez(path)` with no arrays).
fn is_zip(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06")
}

/// What a file's first bytes say it is, when it is neither `.npy`, a zip archive nor text.
fn binary_kind(bytes: &[u8]) -> Option<&'static str> {
    const MAGICS: [(&[u8], &str); 5] = [
        (b"\x89PNG", "a PNG image"),
        (b"II*\x00", "a TIFF image"),
        (b"MM\x00*", "a TIFF image"),
        (b"\x1f\x8b", "gzip-compressed data"),
        (b"%PDF", "a PDF document"),
    ];
    if let Some((_, what)) = MAGICS.iter().find(|(magic, _)| bytes.starts_with(magic)) {
        return Some(what);
    }
    let head = &bytes[..bytes.len().min(4096)];
    // Invalid UTF-8 that is not just a character cut at the end of the window, or a NUL byte.
    let not_utf8 = matches!(std::str::from_utf8(head), Err(e) if e.error_len().is_some());
    if not_utf8 || head.contains(&0) {
        return Some("binary data");
    }
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    matches!(first, Some(b'{' | b'[')).then_some("a JSON document (a model file?)")
}

/// What the content is, in words, for a mismatch with the extension.
fn content_kind(bytes: &[u8]) -> &'static str {
    if npy::is_npy(bytes) {
        "a .npy array"
    } else if is_zip(bytes) {
        "a zip archive (an .npz?)"
    } else {
        binary_kind(bytes).unwrap_or("text")
    }
}

/// The format of a data input named `name` (`None`: standard input) holding `bytes`.
///
/// By extension (`.npy`, `.npz`, `.csv`, `.tsv`/`.tab`) when the content agrees; otherwise
/// (standard input, other extensions) by content: `.npy`'s magic string, a zip archive, else
/// text, tab-separated if the first line holds a tab. Content that is none of these (an image,
/// a JSON model, binary data) is [`ReadError::NotATable`]; an extension that the content
/// contradicts is [`ReadError::FormatMismatch`].
///
/// ```
/// use einmix_io::{input_format, InputFormat};
/// use std::path::Path;
/// assert_eq!(input_format(Some(Path::new("a.tsv")), b"1\t2\n").unwrap(), InputFormat::Text(b'\t'));
/// let e = input_format(Some(Path::new("a.csv")), b"\x89PNG\r\n").unwrap_err();
/// assert!(e.to_string().starts_with("not a data table: it holds a PNG image"));
/// ```
pub fn input_format(name: Option<&Path>, bytes: &[u8]) -> Result<InputFormat, ReadError> {
    let ext = name.map(extension).unwrap_or_default();
    let mismatch =
        |ext: &str| ReadError::FormatMismatch { extension: ext.to_string(), what: content_kind(bytes) };
    let zip = is_zip(bytes);
    match ext.as_str() {
        // A short or damaged .npy is the reader's to explain; other known content is a mismatch.
        "npy" if zip || binary_kind(bytes).is_some_and(|k| k != "binary data") => Err(mismatch(&ext)),
        "npy" => Ok(InputFormat::Npy),
        "npz" if zip => Ok(InputFormat::Npz),
        "npz" => Err(mismatch(&ext)),
        "csv" | "tsv" | "tab" if npy::is_npy(bytes) || zip => Err(mismatch(&ext)),
        _ if npy::is_npy(bytes) => Ok(InputFormat::Npy),
        _ if zip => Ok(InputFormat::Npz),
        _ => {
            if let Some(what) = binary_kind(bytes) {
                return Err(ReadError::NotATable {
                    what,
                    start: text::escaped(&bytes[..bytes.len().min(16)]),
                });
            }
            Ok(match ext.as_str() {
                "csv" => InputFormat::Text(b','),
                "tsv" | "tab" => InputFormat::Text(b'\t'),
                _ => {
                    let first_line = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
                    InputFormat::Text(if first_line.contains(&b'\t') { b'\t' } else { b',' })
                }
            })
        }
    }
}

/// The lower-case extension of `p`, or "".
pub fn extension(p: &Path) -> String {
    p.extension().map(|e| e.to_string_lossy().to_ascii_lowercase()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn format(name: &str, bytes: &[u8]) -> Result<InputFormat, String> {
        input_format(Some(Path::new(name)), bytes).map_err(|e| e.to_string())
    }

    #[test]
    fn extension_and_content_agree_or_the_error_says_what_the_file_holds() {
        let npy = crate::npy::f64_bytes(&[1, 1], &[1.0]);
        assert_eq!(format("a.npy", &npy), Ok(InputFormat::Npy));
        assert_eq!(format("a.dat", &npy), Ok(InputFormat::Npy));
        assert_eq!(format("a.npz", b"PK\x03\x04rest"), Ok(InputFormat::Npz));
        assert_eq!(format("a.csv", b"1,2\n"), Ok(InputFormat::Text(b',')));
        assert_eq!(format("a.txt", b"1\t2\n"), Ok(InputFormat::Text(b'\t')));
        assert_eq!(format("a.csv", &npy), Err("the name says .csv, but the file holds a .npy array".into()));
        assert_eq!(format("a.npz", &npy), Err("the name says .npz, but the file holds a .npy array".into()));
        assert_eq!(format("a.npz", b"1,2\n"), Err("the name says .npz, but the file holds text".into()));
        assert_eq!(
            format("a.npy", b"PK\x03\x04"),
            Err("the name says .npy, but the file holds a zip archive (an .npz?)".into())
        );
        assert_eq!(
            format("a.npy", b"{\"k\": 1}"),
            Err("the name says .npy, but the file holds a JSON document (a model file?)".into())
        );
        assert_eq!(
            format("a.csv", b"\x00\x01\x02"),
            Err("not a data table: it holds binary data (it starts with \"\\x00\\x01\\x02\"); data tables are .npy, .npz, .csv or .tsv files".into())
        );
    }
}
