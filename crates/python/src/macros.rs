//! Macros shared by the binding's modules.

/// Runs `$body` with `$x` bound to the array view of a [`crate::Data`], whichever its element
/// type (float64 or float32 reach the core without a copy).
macro_rules! on_data {
    ($data:expr, |$x:ident| $body:expr) => {
        match $data {
            crate::Data::F64(a) => {
                let $x = a.as_array();
                $body
            }
            crate::Data::F32(a) => {
                let $x = a.as_array();
                $body
            }
        }
    };
}
