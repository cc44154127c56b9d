//! `-f`/`-F`: the flow-nfilter definition applied to each flow before it is
//! stored, loaded from a filter.cfg with the `filterlang` crate.

use crate::config::FilterSpec;
use crate::log;
use crate::receive::FlowFilter;

/// Reads `spec.file`, compiles it with the `-v` variables and returns the
/// predicate of definition `spec.definition`. Warnings are logged; errors
/// come back as one message (with file, line and column where known).
pub fn load(spec: &FilterSpec) -> Result<FlowFilter, String> {
    let text = std::fs::read_to_string(&spec.file)
        .map_err(|e| format!("cannot read filter file {}: {e}", spec.file.display()))?;
    let symbols = filterlang::Symbols::load(None).map_err(|e| e.to_string())?;
    let name = spec.file.display().to_string();
    let (cfg, warnings) = filterlang::FilterConfig::parse(&text, &name, &spec.vars, &symbols)
        .map_err(|e| e.to_string())?;
    for w in warnings {
        log::line(&w.to_string());
    }
    let f = cfg
        .definition(&spec.definition)
        .map_err(|e| e.to_string())?;
    Ok(Box::new(move |r| f.matches(r)))
}
