//! The query suite's logic: input discovery and decoding, text output.
#![deny(missing_docs)]
