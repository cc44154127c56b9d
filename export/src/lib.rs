//! flow-export: flows to CSV, JSON lines and Parquet (work in progress).
#![deny(missing_docs)]
