//! flow-graph: stacked traffic time series (work in progress).
#![deny(missing_docs)]
