//! Bounds on what one input may cost.

/// Limits that make a decompression bomb or a hostile report cost bounded
/// memory and time. Defaults suit real provider reports with a wide margin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most bytes one payload may decompress to (streamed or in memory).
    pub max_decompressed: u64,
    /// Most bytes one payload may decompress to in memory; a larger aggregate
    /// report is parsed as a stream instead.
    pub max_in_memory: u64,
    /// Most decompressed bytes per compressed byte, once past `ratio_grace`.
    pub max_ratio: u64,
    /// Bytes that may be produced before the ratio is enforced, so tiny
    /// highly compressible reports are never refused.
    pub ratio_grace: u64,
    /// Most members read from one zip archive.
    pub max_zip_members: usize,
    /// Most nested compression layers (a gzip inside a gzip is 2).
    pub max_layers: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_decompressed: 4 << 30,
            max_in_memory: 256 << 20,
            max_ratio: 1000,
            ratio_grace: 1 << 20,
            max_zip_members: 256,
            max_layers: 4,
        }
    }
}
