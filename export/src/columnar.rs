//! Parquet output through the `parquet` crate's low-level column writers
//! (no Arrow): the schema ([`schema`]), writer properties ([`properties`]),
//! a row-group encoder that workers run in parallel ([`RowGroupEncoder`]),
//! and the file that splices encoded row groups in order ([`ParquetFile`]).
//!
//! Each [`RowGroupEncoder`] owns one column writer per column, each writing
//! its pages into its own in-memory buffer. [`RowGroupEncoder::finish`]
//! closes them into an [`EncodedRowGroup`] (compressed column chunks plus
//! their metadata, page statistics and page indexes), which
//! [`ParquetFile::append`] copies into the file with
//! `SerializedRowGroupWriter::append_column`. So encoding and compression
//! run on every core while the file is written by one thread, in order.

use std::io::Write;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use formats::Record;
use parquet::basic::{Compression, LogicalType, Repetition, TimeUnit, Type as Physical, ZstdLevel};
use parquet::column::page::{CompressedPage, PageWriteSpec, PageWriter};
use parquet::column::writer::{get_column_writer, ColumnCloseResult, ColumnWriter};
use parquet::data_type::ByteArray;
use parquet::errors::ParquetError;
use parquet::file::properties::{
    EnabledStatistics, WriterProperties, WriterPropertiesPtr, WriterVersion,
};
use parquet::file::writer::{SerializedFileWriter, SerializedPageWriter, TrackedWrite};
use parquet::schema::types::{ColumnPath, SchemaDescPtr, SchemaDescriptor, Type, TypePtr};

use crate::columns::{Column, Kind, ADDR_STRING_COLUMNS, COLUMNS};
use crate::text::push_addr;

/// Rows per row group by default: about 15-25 MB compressed, the size
/// Spark, Trino and DuckDB scan and prune well.
pub const DEFAULT_ROW_GROUP_ROWS: usize = 1 << 20;

/// The exported columns: [`COLUMNS`], then the address strings when
/// `addr_strings`.
pub fn columns(addr_strings: bool) -> Vec<(Column, bool)> {
    let mut v: Vec<(Column, bool)> = COLUMNS.iter().map(|c| (*c, false)).collect();
    if addr_strings {
        v.extend(ADDR_STRING_COLUMNS.iter().map(|c| (*c, true)));
    }
    v
}

fn field_type(c: &Column, string: bool) -> Result<Type, ParquetError> {
    let int = |bits: i8| {
        Type::primitive_type_builder(c.name, Physical::INT32)
            .with_logical_type(Some(LogicalType::integer(bits, false)))
    };
    let b = if string {
        Type::primitive_type_builder(c.name, Physical::BYTE_ARRAY)
            .with_logical_type(Some(LogicalType::String))
    } else {
        match c.kind {
            Kind::U32 | Kind::Addr => int(32),
            Kind::U16 => int(16),
            Kind::U8 => int(8),
            Kind::TimeMs => Type::primitive_type_builder(c.name, Physical::INT64)
                .with_logical_type(Some(LogicalType::timestamp(true, TimeUnit::MILLIS))),
        }
    };
    b.with_repetition(Repetition::REQUIRED).build()
}

/// The Parquet schema of an export: one required column per exported
/// column; unsigned integers as INT32 with UINT_8/16/32 annotations, times
/// as INT64 TIMESTAMP(MILLIS, UTC), address strings as UTF-8.
pub fn schema(addr_strings: bool) -> Result<SchemaDescPtr, ParquetError> {
    let fields = columns(addr_strings)
        .iter()
        .map(|(c, s)| field_type(c, *s).map(Arc::new))
        .collect::<Result<Vec<TypePtr>, _>>()?;
    let root = Type::group_type_builder("flow")
        .with_fields(fields)
        .build()?;
    Ok(Arc::new(SchemaDescriptor::new(Arc::new(root))))
}

/// Rows per data page at most: page statistics and the page index let
/// engines skip pages inside a row group.
const PAGE_ROWS: usize = 1 << 16;

/// The encoding of a column. No dictionaries: interning every value costs
/// more time than the dictionary saves bytes once zstd has run. Chosen by
/// measurement on flow-gen data (4 M flows, bytes per flow after zstd and
/// CPU time): the export-packet fields (`unix_secs`, `unix_nsecs`,
/// `sysuptime`, constant over runs of rows), the counters and the derived
/// times are delta-encoded; the uptimes `first` and `last` jump around
/// within an export packet, so plain plus zstd stores them 0.4 bytes
/// smaller each at the same cost; TCP flags and the masks delta-pack to
/// about one byte per value, the size plain plus zstd gets, and leave zstd
/// a quarter of the bytes to chew; addresses, ports, interfaces, AS numbers
/// and the other 8-bit fields are plain, which zstd compresses best.
fn encoding(c: &Column, string: bool) -> parquet::basic::Encoding {
    use crate::columns::Field;
    use parquet::basic::Encoding;
    if string {
        return Encoding::PLAIN;
    }
    match c.field {
        Field::First | Field::Last => Encoding::PLAIN,
        Field::TcpFlags | Field::SrcMask | Field::DstMask => Encoding::DELTA_BINARY_PACKED,
        _ => match c.kind {
            Kind::U32 | Kind::TimeMs => Encoding::DELTA_BINARY_PACKED,
            _ => Encoding::PLAIN,
        },
    }
}

/// Writer properties: zstd at `zstd_level`, page statistics and page
/// indexes on (engines prune row groups and pages by time and address),
/// Parquet 1.0 data pages for the widest reader support.
pub fn properties(
    addr_strings: bool,
    zstd_level: i32,
) -> Result<WriterPropertiesPtr, ParquetError> {
    let mut b = WriterProperties::builder()
        .set_writer_version(WriterVersion::PARQUET_1_0)
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(zstd_level)?))
        .set_statistics_enabled(EnabledStatistics::Page)
        .set_dictionary_enabled(false)
        .set_data_page_row_count_limit(PAGE_ROWS)
        .set_write_batch_size(8192)
        .set_created_by(
            concat!("flowtools-rs flow-export ", env!("CARGO_PKG_VERSION")).to_string(),
        );
    for (c, string) in columns(addr_strings) {
        b = b.set_column_encoding(ColumnPath::from(c.name), encoding(&c, string));
    }
    Ok(Arc::new(b.build()))
}

/// A page sink that owns its buffer (shared with the encoder, which takes
/// the bytes back once the column writer is closed).
struct BufferPageWriter {
    sink: Arc<Mutex<TrackedWrite<Vec<u8>>>>,
}

impl PageWriter for BufferPageWriter {
    fn write_page(&mut self, page: CompressedPage) -> parquet::errors::Result<PageWriteSpec> {
        let mut sink = self
            .sink
            .lock()
            .map_err(|_| ParquetError::General("page buffer poisoned".into()))?;
        SerializedPageWriter::new(&mut sink).write_page(page)
    }
    fn close(&mut self) -> parquet::errors::Result<()> {
        Ok(())
    }
}

/// Appends the values of `f` in `recs` to `out`, as Parquet stores
/// unsigned 32-bit values (the same bits in an INT32). One loop per field,
/// so the field choice is not made per value.
fn extract(f: crate::columns::Field, recs: &[Record], out: &mut Vec<i32>) {
    use crate::columns::Field::*;
    macro_rules! each {
        ($($name:ident => $field:ident),* $(,)?) => {
            match f {
                $($name => out.extend(recs.iter().map(|r| r.$field as i32)),)*
                Start | End => out.extend(recs.iter().map(|r| f.u32(r) as i32)),
            }
        };
    }
    each!(
        UnixSecs => unix_secs,
        UnixNsecs => unix_nsecs,
        SysUptime => sys_uptime_ms,
        Exporter => exporter,
        SrcAddr => src_addr,
        DstAddr => dst_addr,
        NextHop => next_hop,
        InputIf => input_if,
        OutputIf => output_if,
        Packets => packets,
        Octets => octets,
        First => first_uptime_ms,
        Last => last_uptime_ms,
        SrcPort => src_port,
        DstPort => dst_port,
        Protocol => protocol,
        Tos => tos,
        TcpFlags => tcp_flags,
        EngineType => engine_type,
        EngineId => engine_id,
        SrcMask => src_mask,
        DstMask => dst_mask,
        SrcAs => src_as,
        DstAs => dst_as,
    );
}

/// One row group's column chunks, encoded and compressed in memory.
pub struct EncodedRowGroup {
    chunks: Vec<(Bytes, ColumnCloseResult)>,
    rows: u64,
}

impl EncodedRowGroup {
    /// Rows in the group.
    pub fn rows(&self) -> u64 {
        self.rows
    }
    /// Compressed bytes of its column chunks.
    pub fn bytes(&self) -> usize {
        self.chunks.iter().map(|(b, _)| b.len()).sum()
    }
}

/// Encodes records into one row group, column by column.
pub struct RowGroupEncoder {
    columns: Vec<(Column, bool)>,
    writers: Vec<ColumnWriter<'static>>,
    sinks: Vec<Arc<Mutex<TrackedWrite<Vec<u8>>>>>,
    rows: u64,
    ints: Vec<i32>,
    longs: Vec<i64>,
    strings: Vec<ByteArray>,
    text: Vec<u8>,
    ends: Vec<usize>,
}

impl RowGroupEncoder {
    /// An empty row group for `schema` (from [`schema`] with the same
    /// `addr_strings`) and `props`.
    pub fn new(schema: &SchemaDescPtr, props: &WriterPropertiesPtr, addr_strings: bool) -> Self {
        let columns = columns(addr_strings);
        let mut writers = Vec::with_capacity(columns.len());
        let mut sinks = Vec::with_capacity(columns.len());
        for descr in schema.columns() {
            let sink = Arc::new(Mutex::new(TrackedWrite::new(Vec::new())));
            let pages = BufferPageWriter { sink: sink.clone() };
            writers.push(get_column_writer(
                descr.clone(),
                props.clone(),
                Box::new(pages),
            ));
            sinks.push(sink);
        }
        RowGroupEncoder {
            columns,
            writers,
            sinks,
            rows: 0,
            ints: Vec::new(),
            longs: Vec::new(),
            strings: Vec::new(),
            text: Vec::new(),
            ends: Vec::new(),
        }
    }

    /// Rows written so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Appends `recs` to every column.
    pub fn write(&mut self, recs: &[Record]) -> Result<(), ParquetError> {
        if recs.is_empty() {
            return Ok(());
        }
        for ((c, string), w) in self.columns.iter().zip(self.writers.iter_mut()) {
            let f = c.field;
            match w {
                ColumnWriter::Int32ColumnWriter(w) => {
                    self.ints.clear();
                    extract(f, recs, &mut self.ints);
                    w.write_batch(&self.ints, None, None)?;
                }
                ColumnWriter::Int64ColumnWriter(w) => {
                    self.longs.clear();
                    self.longs.extend(recs.iter().map(|r| f.time_ms(r)));
                    w.write_batch(&self.longs, None, None)?;
                }
                ColumnWriter::ByteArrayColumnWriter(w) if *string => {
                    // All strings of the batch in one buffer, sliced
                    // without copying: no allocation per value.
                    self.text.clear();
                    self.ends.clear();
                    for r in recs {
                        push_addr(&mut self.text, f.u32(r));
                        self.ends.push(self.text.len());
                    }
                    let all = Bytes::copy_from_slice(&self.text);
                    self.strings.clear();
                    let mut start = 0;
                    for &end in &self.ends {
                        self.strings.push(ByteArray::from(all.slice(start..end)));
                        start = end;
                    }
                    w.write_batch(&self.strings, None, None)?;
                }
                _ => {
                    return Err(ParquetError::General(format!(
                        "column {} has an unexpected physical type",
                        c.name
                    )))
                }
            }
        }
        self.rows += recs.len() as u64;
        Ok(())
    }

    /// Closes every column writer; the row group is ready to append.
    pub fn finish(self) -> Result<EncodedRowGroup, ParquetError> {
        let mut chunks = Vec::with_capacity(self.writers.len());
        for (w, sink) in self.writers.into_iter().zip(self.sinks) {
            let close = w.close()?;
            let mut sink = sink
                .lock()
                .map_err(|_| ParquetError::General("page buffer poisoned".into()))?;
            sink.flush()?;
            let bytes = std::mem::take(sink.inner_mut());
            chunks.push((Bytes::from(bytes), close));
        }
        Ok(EncodedRowGroup {
            chunks,
            rows: self.rows,
        })
    }
}

/// A Parquet file being written: row groups appended in order, then the
/// footer on [`ParquetFile::finish`].
pub struct ParquetFile<W: Write + Send> {
    writer: SerializedFileWriter<W>,
}

impl<W: Write + Send> ParquetFile<W> {
    /// Writes the magic to `w`.
    pub fn new(
        w: W,
        schema: &SchemaDescPtr,
        props: &WriterPropertiesPtr,
    ) -> Result<Self, ParquetError> {
        Ok(ParquetFile {
            writer: SerializedFileWriter::new(w, schema.root_schema_ptr(), props.clone())?,
        })
    }

    /// Appends one encoded row group.
    pub fn append(&mut self, rg: EncodedRowGroup) -> Result<(), ParquetError> {
        if rg.rows == 0 {
            return Ok(());
        }
        let mut g = self.writer.next_row_group()?;
        for (bytes, close) in rg.chunks {
            g.append_column(&bytes, close)?;
        }
        g.close()?;
        Ok(())
    }

    /// Bytes written so far.
    pub fn bytes_written(&self) -> usize {
        self.writer.bytes_written()
    }

    /// Writes the footer and returns the sink.
    pub fn finish(self) -> Result<W, ParquetError> {
        self.writer.into_inner()
    }
}
