//! Bounds on what one input may cost.

/// Limits that make a decompression bomb or a hostile report cost bounded
/// memory and time. Defaults suit real provider reports with a wide margin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most bytes one payload may decompress to (streamed or in memory).
    pub max_decompressed: u64,
    /// Most bytes one input (all its parts, members and layers together)
    /// may hold decompressed in memory; a compressed aggregate report that
    /// does not fit is parsed as a stream instead.
    pub max_in_memory: u64,
    /// Most decompressed bytes per compressed byte consumed so far, at every
    /// layer, once past `ratio_grace`. Real reports compress 10-40:1; deflate
    /// cannot exceed about 1032:1, so a bomb needs nesting or many members,
    /// and each layer and member is checked on its own.
    pub max_ratio: u64,
    /// Bytes that may be produced before the ratio is enforced, so tiny
    /// highly compressible reports are never refused.
    pub ratio_grace: u64,
    /// Most members read from one zip archive.
    pub max_zip_members: usize,
    /// Most nested compression layers (a gzip inside a gzip is 2).
    pub max_layers: usize,
    /// Most MIME parts (boundary lines) in one email: the MIME parser keeps
    /// several hundred bytes per part, so a 50 MB email of empty parts
    /// would cost gigabytes. Real report emails have two to five.
    pub max_mime_parts: usize,
    /// Most header fields in one email, its parts' included (the MIME
    /// parser keeps each one); real report emails have under 200.
    pub max_header_fields: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_decompressed: 4 << 30,
            max_in_memory: 64 << 20,
            max_ratio: 200,
            ratio_grace: 1 << 20,
            max_zip_members: 256,
            max_layers: 4,
            max_mime_parts: 10_000,
            max_header_fields: 100_000,
        }
    }
}
