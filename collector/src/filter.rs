//! `-f`/`-F`: the flow-nfilter definition applied to each flow before it is
//! stored, loaded from a filter.cfg with the `filterlang` crate.

use std::path::PathBuf;

use crate::config::FilterSpec;
use crate::log;
use crate::receive::FlowFilter;

/// Why the filter could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum FilterError {
    /// The filter file cannot be read.
    #[error("cannot read filter file {}: {}", path.display(), formats::archive::io_reason(source))]
    Read {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The symbol files, the filter text or the definition are wrong
    /// (with file, line and column where known).
    #[error(transparent)]
    Filter(#[from] filterlang::FilterError),
}

/// Reads `spec.file`, compiles it with the `-v` variables and returns the
/// predicate of definition `spec.definition`. Warnings are logged.
pub fn load(spec: &FilterSpec) -> Result<FlowFilter, FilterError> {
    let text = std::fs::read_to_string(&spec.file).map_err(|source| FilterError::Read {
        path: spec.file.clone(),
        source,
    })?;
    let symbols = filterlang::Symbols::load(None)?;
    let name = spec.file.display().to_string();
    let (cfg, warnings) = filterlang::FilterConfig::parse(&text, &name, &spec.vars, &symbols)?;
    for w in warnings {
        log::line(&w.to_string());
    }
    let f = cfg.definition(&spec.definition)?;
    Ok(Box::new(move |r| f.matches(r)))
}

/// The filter `spec` asks for, or `None` without one.
pub fn load_opt(spec: Option<&FilterSpec>) -> Result<Option<FlowFilter>, FilterError> {
    spec.map(load).transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_file_and_a_bad_definition_are_typed_errors() {
        let dir = tempfile::tempdir().unwrap();
        let spec = FilterSpec {
            file: dir.path().join("nope.cfg"),
            definition: "x".into(),
            vars: Vec::new(),
        };
        let e = load(&spec).err().unwrap();
        assert!(
            matches!(&e, FilterError::Read { source, .. } if source.kind() == std::io::ErrorKind::NotFound),
            "{e}"
        );
        assert!(e.to_string().contains("nope.cfg"), "{e}");
        let file = dir.path().join("f.cfg");
        std::fs::write(
            &file,
            "filter-primitive p\n  type ip-protocol\n  permit tcp\n",
        )
        .unwrap();
        let spec = FilterSpec {
            file,
            definition: "missing".into(),
            vars: Vec::new(),
        };
        assert!(matches!(load(&spec), Err(FilterError::Filter(_))));
        assert!(load_opt(None).unwrap().is_none());
    }
}
