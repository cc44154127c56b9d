//! flow-import: host connection logs into flow records.
#![deny(missing_docs)]
