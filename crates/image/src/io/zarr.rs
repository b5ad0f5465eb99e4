//! OME-Zarr in, chunk by chunk: NGFF 0.4 (Zarr v2: `.zattrs` with `multiscales`, `.zarray`)
//! and 0.5 (Zarr v3: `zarr.json` with `attributes.ome.multiscales`), level 0 of the first
//! multiscale image; or a plain Zarr array with no OME metadata, whose axes are `(H, W)`,
//! `(T, H, W)` or `(T, Z, H, W)` as for `.npy`. A time point is one array subset
//! `[t, channel, .., .., ..]`, so only the chunks that overlap it are read and decoded.
//!
//! The arrays themselves are read by the `zarrs` crate rather than here: Zarr v2 and v3
//! metadata, their codecs (blosc, gzip, zstd, crc32c, transpose, sharding), chunk grids and
//! chunk key encodings are a specification's worth of work that `zarrs` implements and tests
//! against zarr-python's stores. This module reads only the OME attributes (plain JSON).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value;
use zarrs::array::codec::CodecOptions;
use zarrs::array::{
    Array, ArrayChunkCacheExt, ArrayCreateError, ArrayError, ChunkCacheDecodedLruChunkLimit, DataType,
    DataTypeSize, DimensionName, ElementOwned,
};
use zarrs::array_subset::ArraySubset;
use zarrs::filesystem::FilesystemStore;
use zarrs::plugin::PluginCreateError;
use zarrs::storage::StorageError;

use super::frames::TimePoints;
use crate::error::{Error, Result};

/// The format's name in error messages.
const FORMAT: &str = "OME-Zarr";

/// The most decoded chunks kept between time points, in bytes (see [`row_cache`]).
const CACHE_BYTES: u64 = 1 << 30;

/// Whether `path` is a Zarr store: a folder with Zarr v2 or v3 metadata at its root.
pub(crate) fn is_zarr(path: &Path) -> bool {
    path.is_dir() && [".zattrs", ".zgroup", ".zarray", "zarr.json"].iter().any(|m| path.join(m).is_file())
}

/// What an array axis is to a time-lapse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    T,
    C,
    Z,
    Y,
    X,
}

/// One entry of `multiscales[0].axes`.
struct Axis {
    name: String,
    kind: Option<String>,
    unit: Option<String>,
}

/// A Zarr array's time points, one channel, read on demand.
pub(crate) struct ZarrTimePoints {
    path: PathBuf,
    array: Array<FilesystemStore>,
    /// The role of each of the array's axes, in the array's order.
    roles: Vec<Role>,
    /// `(T, Z, H, W)`.
    layout: (usize, usize, usize, usize),
    channel: usize,
    voxel_size: Option<[f64; 3]>,
    /// The decoded chunks of the last time point, where a chunk spans several.
    cache: Option<ChunkCacheDecodedLruChunkLimit>,
}

impl ZarrTimePoints {
    /// Opens the store at `path` (an OME-Zarr image or a plain array) and chooses `channel`.
    pub(crate) fn open(path: &Path, channel: Option<usize>) -> Result<ZarrTimePoints> {
        let corrupt = |problem: String| Error::Corrupt { path: path.to_path_buf(), format: FORMAT, problem };
        let store = FilesystemStore::new(path).map_err(|e| corrupt(e.to_string()))?;
        let (node, ome) = match root_attributes(path)? {
            Root::Array => ("/".to_string(), None),
            Root::Group(attributes) => {
                // NGFF 0.5 nests its keys under `ome`; 0.4 has them at the top.
                let ome =
                    attributes.get("ome").filter(|o| o.get("multiscales").is_some()).unwrap_or(&attributes);
                let Some(multiscale) = ome.get("multiscales").and_then(|m| m.get(0)) else {
                    return Err(corrupt(
                        "a Zarr group without OME 'multiscales' metadata; give the path of the array inside it"
                            .into(),
                    ));
                };
                let Some(dataset) = multiscale.pointer("/datasets/0/path").and_then(Value::as_str) else {
                    return Err(corrupt("multiscales[0] has no datasets[0].path".into()));
                };
                (
                    format!("/{}", dataset.trim_matches('/')),
                    Some((multiscale.clone(), ome.get("omero").cloned())),
                )
            }
        };
        let array = Array::open(Arc::new(store), &node).map_err(|e| open_error(path, &node, e))?;
        let shape: Vec<usize> = array.shape().iter().map(|&n| n as usize).collect();
        let (roles, axes) = match &ome {
            None => (plain_roles(path, &array)?, Vec::new()),
            Some((multiscale, _)) => {
                let axes = read_axes(multiscale, shape.len()).map_err(corrupt)?;
                (axis_roles(&axes).map_err(corrupt)?, axes)
            }
        };
        if shape.contains(&0) {
            return Err(corrupt(format!("{} is empty: shape {shape:?}", array_name(&node))));
        }
        if !readable(array.data_type()) {
            return Err(unsupported(path, array.data_type()));
        }
        let size = |role| roles.iter().position(|r| *r == role).map_or(1, |i| shape[i]);
        let channels = size(Role::C);
        let labels = ome.as_ref().and_then(|(_, omero)| omero.as_ref()).and_then(|o| o.get("channels"));
        let names: Vec<String> = (0..channels)
            .map(|i| {
                let label =
                    labels.and_then(|l| l.get(i)).and_then(|c| c.get("label")).and_then(Value::as_str);
                label.filter(|l| !l.is_empty()).map_or_else(|| format!("channel {i}"), str::to_string)
            })
            .collect();
        let channel = super::pick_channel(path, channel, &names)?;
        let voxel_size = ome.as_ref().and_then(|(multiscale, _)| voxel_size(multiscale, &axes, &roles));
        Ok(ZarrTimePoints {
            path: path.to_path_buf(),
            layout: (size(Role::T), size(Role::Z), size(Role::Y), size(Role::X)),
            cache: row_cache(&array, &roles, channel),
            array,
            roles,
            channel,
            voxel_size,
        })
    }

    /// Time point `t`'s `subset` of the array into `out` as f32: the values come in the
    /// array's axis order and go out in `(Z, Y, X)` order.
    fn place<T: Sample>(&self, subset: &ArraySubset, out: &mut [f32]) -> std::result::Result<(), ArrayError> {
        let values = match &self.cache {
            Some(cache) => self.array.retrieve_array_subset_elements_opt_cached::<T, _>(
                cache,
                subset,
                &CodecOptions::default(),
            )?,
            None => self.array.retrieve_array_subset_elements::<T>(subset)?,
        };
        // The subset's C-order strides: its T and C axes have length 1, so only Z, Y and X
        // move; for OME's mandated (t, c, z, y, x) order they are (H * W, W, 1).
        let (mut strides, mut step) = ([0usize; 3], 1usize);
        for (&role, &len) in self.roles.iter().zip(subset.shape()).rev() {
            match role {
                Role::Z => strides[0] = step,
                Role::Y => strides[1] = step,
                Role::X => strides[2] = step,
                Role::T | Role::C => {}
            }
            step *= len as usize;
        }
        let (_, z, h, w) = self.layout;
        let mut at = 0;
        for zi in 0..z {
            for yi in 0..h {
                let row = zi * strides[0] + yi * strides[1];
                for (xi, o) in out[at..at + w].iter_mut().enumerate() {
                    *o = values[row + xi * strides[2]].to_f32();
                }
                at += w;
            }
        }
        Ok(())
    }

    /// Which chunk of `subset` fails to decode, and why: zarrs' error for the whole subset
    /// does not name the chunk, so on that (rare) path each chunk is decoded alone.
    fn locate(&self, subset: &ArraySubset, error: ArrayError) -> String {
        if let Ok(Some(chunks)) = self.array.chunks_in_array_subset(subset) {
            for chunk in &chunks.indices() {
                if let Err(e) = self.array.retrieve_chunk_if_exists(&chunk) {
                    return format!("chunk '{}': {e}", self.array.chunk_key(&chunk));
                }
            }
        }
        error.to_string()
    }
}

impl TimePoints for ZarrTimePoints {
    fn layout(&self) -> (usize, usize, usize, usize) {
        self.layout
    }

    fn voxel_size(&self) -> Option<[f64; 3]> {
        self.voxel_size
    }

    fn read_time_point(&mut self, t: usize, out: &mut [f32]) -> Result<()> {
        let (_, z, h, w) = self.layout;
        assert_eq!(out.len(), z * h * w, "a time point has Z x H x W values");
        let subset = time_point(&self.array, &self.roles, self.channel, t);
        let read = match self.array.data_type() {
            DataType::Bool => self.place::<bool>(&subset, out),
            DataType::UInt8 => self.place::<u8>(&subset, out),
            DataType::UInt16 => self.place::<u16>(&subset, out),
            DataType::UInt32 => self.place::<u32>(&subset, out),
            DataType::UInt64 => self.place::<u64>(&subset, out),
            DataType::Int8 => self.place::<i8>(&subset, out),
            DataType::Int16 => self.place::<i16>(&subset, out),
            DataType::Int32 => self.place::<i32>(&subset, out),
            DataType::Int64 => self.place::<i64>(&subset, out),
            DataType::Float16 => self.place::<half::f16>(&subset, out),
            DataType::Float32 => self.place::<f32>(&subset, out),
            DataType::Float64 => self.place::<f64>(&subset, out),
            other => return Err(unsupported(&self.path, other)),
        };
        read.map_err(|e| match e {
            ArrayError::StorageError(StorageError::IOError(source)) => Error::io(&self.path, source),
            e => Error::Corrupt {
                path: self.path.clone(),
                format: FORMAT,
                problem: format!("time point {t}: {}", self.locate(&subset, e)),
            },
        })
    }

    fn path(&self) -> &Path {
        &self.path
    }
}

/// The array subset `[t, channel, .., .., ..]`, its axes in the array's order.
fn time_point(array: &Array<FilesystemStore>, roles: &[Role], channel: usize, t: usize) -> ArraySubset {
    let ranges: Vec<_> = roles
        .iter()
        .zip(array.shape())
        .map(|(role, &len)| match role {
            Role::T => t as u64..t as u64 + 1,
            Role::C => channel as u64..channel as u64 + 1,
            Role::Z | Role::Y | Role::X => 0..len,
        })
        .collect();
    ArraySubset::new_with_ranges(&ranges)
}

/// A cache of one time point's decoded chunks, where a chunk holds several time points: the
/// frames are read in order, so each chunk is then decoded once rather than once per time
/// point in it. None where chunks hold one time point (nothing to reuse; the uncached read
/// decodes only the bytes it needs of an uncompressed chunk), or where those chunks would
/// take more than [`CACHE_BYTES`] decoded.
fn row_cache(
    array: &Array<FilesystemStore>,
    roles: &[Role],
    channel: usize,
) -> Option<ChunkCacheDecodedLruChunkLimit> {
    let t_axis = roles.iter().position(|r| *r == Role::T)?;
    let chunk = array.chunk_shape(&vec![0; roles.len()]).ok()?.to_array_shape();
    if chunk[t_axis] < 2 {
        return None;
    }
    let DataTypeSize::Fixed(element) = array.data_type().size() else { return None };
    let chunks = array.chunks_in_array_subset(&time_point(array, roles, channel, 0)).ok()??.num_elements();
    let bytes = chunks.saturating_mul(chunk.iter().product::<u64>()).saturating_mul(element as u64);
    (bytes <= CACHE_BYTES).then(|| ChunkCacheDecodedLruChunkLimit::new(chunks))
}

/// A Zarr element as f32, converted as NumPy's `astype(numpy.float32)` does (integers and
/// doubles rounded to the nearest float, booleans to 0 and 1).
trait Sample: ElementOwned + Copy {
    fn to_f32(self) -> f32;
}

macro_rules! numeric_sample {
    ($($t:ty),*) => {$(
        impl Sample for $t {
            fn to_f32(self) -> f32 {
                self as f32
            }
        }
    )*};
}
numeric_sample!(u8, u16, u32, u64, i8, i16, i32, i64, f32, f64);

impl Sample for bool {
    fn to_f32(self) -> f32 {
        f32::from(u8::from(self))
    }
}

impl Sample for half::f16 {
    fn to_f32(self) -> f32 {
        half::f16::to_f32(self)
    }
}

/// What the store's root is.
enum Root {
    /// An array (v2 `.zarray`, or v3 `zarr.json` of node type array).
    Array,
    /// A group and its attributes (v2 `.zattrs`, v3 `zarr.json`'s `attributes`).
    Group(Value),
}

fn root_attributes(path: &Path) -> Result<Root> {
    let read = |name: &str| -> Result<Option<Value>> {
        let file = path.join(name);
        match std::fs::read(&file) {
            Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| Error::Corrupt {
                path: path.to_path_buf(),
                format: FORMAT,
                problem: format!("{name} is not valid JSON: {e}"),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io(file, e)),
        }
    };
    if let Some(meta) = read("zarr.json")? {
        return Ok(match meta.get("node_type").and_then(Value::as_str) {
            Some("array") => Root::Array,
            _ => Root::Group(meta.get("attributes").cloned().unwrap_or(Value::Null)),
        });
    }
    if path.join(".zarray").is_file() {
        return Ok(Root::Array);
    }
    Ok(Root::Group(read(".zattrs")?.unwrap_or(Value::Null)))
}

/// The array at `node`, for messages: the store itself, or the multiscale's level 0.
fn array_name(node: &str) -> String {
    match node.trim_start_matches('/') {
        "" => "the array".into(),
        level => format!("the array '{level}'"),
    }
}

/// `zarrs`' refusal to open an array, naming the store: a codec or data type it does not
/// decode is an unsupported sample format, anything else a corrupt store.
fn open_error(path: &Path, node: &str, e: ArrayCreateError) -> Error {
    match e {
        ArrayCreateError::CodecsCreateError(PluginCreateError::Unsupported { name, plugin_type }) => {
            Error::UnsupportedSampleFormat {
                path: path.to_path_buf(),
                format: FORMAT,
                what: format!(
                    "{} is stored with the {plugin_type} '{name}', which this build does not decode (it decodes \
                     blosc, gzip, zstd, crc32c, transpose and sharding)",
                    array_name(node)
                ),
            }
        }
        ArrayCreateError::DataTypeCreateError(_) | ArrayCreateError::UnsupportedZarrV2Array(_) => {
            Error::UnsupportedSampleFormat { path: path.to_path_buf(), format: FORMAT, what: e.to_string() }
        }
        ArrayCreateError::MissingMetadata => Error::Corrupt {
            path: path.to_path_buf(),
            format: FORMAT,
            problem: format!("{} (the multiscale's level 0) has no Zarr array metadata", array_name(node)),
        },
        e => Error::Corrupt { path: path.to_path_buf(), format: FORMAT, problem: format!("{}: {e}", array_name(node)) },
    }
}

/// The data types read, each converted to f32 as NumPy's `astype(numpy.float32)` does.
fn readable(data_type: &DataType) -> bool {
    use DataType::*;
    matches!(
        data_type,
        Bool | UInt8 | UInt16 | UInt32 | UInt64 | Int8 | Int16 | Int32 | Int64 | Float16 | Float32 | Float64
    )
}

fn unsupported(path: &Path, data_type: &DataType) -> Error {
    Error::UnsupportedSampleFormat {
        path: path.to_path_buf(),
        format: FORMAT,
        what: format!("data type {data_type}; expected bool, (u)int8/16/32/64 or float16/32/64"),
    }
}

/// A plain array's axes: from its Zarr v3 `dimension_names` where each is one of t, c, z, y,
/// x; else from its number of dimensions, as a `.npy` stack's.
fn plain_roles(path: &Path, array: &Array<FilesystemStore>) -> Result<Vec<Role>> {
    let names: Option<Vec<Axis>> = array.dimension_names().as_ref().and_then(|names| {
        let axis = |n: &DimensionName| {
            let name =
                n.as_str().filter(|n| ["t", "c", "z", "y", "x"].contains(&n.to_lowercase().as_str()))?;
            Some(Axis { name: name.to_string(), kind: None, unit: None })
        };
        names.iter().map(axis).collect()
    });
    if let Some(axes) = names {
        return axis_roles(&axes).map_err(|problem| Error::Corrupt {
            path: path.to_path_buf(),
            format: FORMAT,
            problem,
        });
    }
    match array.shape().len() {
        2 => Ok(vec![Role::Y, Role::X]),
        3 => Ok(vec![Role::T, Role::Y, Role::X]),
        4 => Ok(vec![Role::T, Role::Z, Role::Y, Role::X]),
        _ => Err(Error::UnsupportedShape {
            path: path.to_path_buf(),
            shape: array.shape().iter().map(|&n| n as usize).collect(),
        }),
    }
}

/// `multiscales[0].axes`: objects `{name, type, unit}` (NGFF 0.4 and 0.5) or names (0.3);
/// NGFF 0.1 and 0.2 had none and always five, `(t, c, z, y, x)`.
fn read_axes(multiscale: &Value, ndim: usize) -> std::result::Result<Vec<Axis>, String> {
    let text = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).map(str::to_string);
    let axes: Vec<Axis> = match multiscale.get("axes").and_then(Value::as_array) {
        Some(list) => list
            .iter()
            .map(|a| match a {
                Value::String(name) => Some(Axis { name: name.clone(), kind: None, unit: None }),
                Value::Object(_) => {
                    Some(Axis { name: text(a, "name")?, kind: text(a, "type"), unit: text(a, "unit") })
                }
                _ => None,
            })
            .collect::<Option<_>>()
            .ok_or("multiscales[0].axes holds an entry that is neither a name nor an object with a name")?,
        None if ndim == 5 => ["t", "c", "z", "y", "x"]
            .iter()
            .map(|n| Axis { name: n.to_string(), kind: None, unit: None })
            .collect(),
        None => {
            return Err(format!("multiscales[0] has no axes, and the array has {ndim} dimensions, not 5"))
        }
    };
    if axes.len() != ndim {
        return Err(format!(
            "multiscales[0].axes names {} axes ({}) but the array has {ndim} dimensions",
            axes.len(),
            listed(&axes)
        ));
    }
    Ok(axes)
}

/// `name (type)` of each axis, for messages.
fn listed(axes: &[Axis]) -> String {
    let one = |a: &Axis| a.kind.as_ref().map_or_else(|| a.name.clone(), |k| format!("{} ({k})", a.name));
    axes.iter().map(one).collect::<Vec<_>>().join(", ")
}

/// Each axis's role, by its name (`t`, `c`, `z`, `y`, `x`, any case) and else by its type
/// (`time`, `channel`); y and x are needed, and no role may appear twice.
fn axis_roles(axes: &[Axis]) -> std::result::Result<Vec<Role>, String> {
    let mut roles = Vec::with_capacity(axes.len());
    for axis in axes {
        let kind = axis.kind.as_deref().map(str::to_lowercase);
        let by_name = match axis.name.to_lowercase().as_str() {
            "t" => Some((Role::T, "time")),
            "c" => Some((Role::C, "channel")),
            "z" => Some((Role::Z, "space")),
            "y" => Some((Role::Y, "space")),
            "x" => Some((Role::X, "space")),
            _ => None,
        };
        let role = match (by_name, kind.as_deref()) {
            (Some((_, expected)), Some(kind)) if kind != expected => {
                return Err(format!(
                    "axis '{}' has type '{kind}', but an axis of that name is of type '{expected}'; the axes found: {}",
                    axis.name,
                    listed(axes)
                ))
            }
            (Some((role, _)), _) => role,
            (None, Some("time")) => Role::T,
            (None, Some("channel")) => Role::C,
            (None, Some("space")) => {
                return Err(format!(
                    "space axis '{}' is not z, y or x; the axes found: {}",
                    axis.name,
                    listed(axes)
                ))
            }
            (None, _) => {
                return Err(format!(
                    "axis '{}' is not t, c, z, y or x, nor of type time or channel; the axes found: {}",
                    axis.name,
                    listed(axes)
                ))
            }
        };
        if roles.contains(&role) {
            return Err(format!(
                "axis '{}' is a second {role:?} axis; the axes found: {}",
                axis.name,
                listed(axes)
            ));
        }
        roles.push(role);
    }
    for (needed, name) in [(Role::Y, "y"), (Role::X, "x")] {
        if !roles.contains(&needed) {
            return Err(format!("there is no {name} axis; the axes found: {}", listed(axes)));
        }
    }
    Ok(roles)
}

/// The voxel's sides `(z, y, x)` in micrometres: dataset 0's `scale` times the multiscale's own
/// (NGFF 0.4 allows both), each in its axis's unit. `None` unless a scale is stated and all
/// three axes exist with a length unit we know: a unitless scale says nothing in micrometres.
fn voxel_size(multiscale: &Value, axes: &[Axis], roles: &[Role]) -> Option<[f64; 3]> {
    let mut scale = vec![1.0; axes.len()];
    let mut stated = false;
    let lists = [
        multiscale.pointer("/datasets/0/coordinateTransformations"),
        multiscale.get("coordinateTransformations"),
    ];
    for transform in lists.into_iter().flatten().filter_map(Value::as_array).flatten() {
        if transform.get("type").and_then(Value::as_str) != Some("scale") {
            continue;
        }
        // A scale kept in a binary file (`path`) is not read: the size stays unknown.
        let factors = transform.get("scale")?.as_array()?;
        if factors.len() != scale.len() {
            return None;
        }
        for (s, f) in scale.iter_mut().zip(factors) {
            *s *= f.as_f64()?;
        }
        stated = true;
    }
    if !stated {
        return None;
    }
    let side = |role| {
        let i = roles.iter().position(|r| *r == role)?;
        let side = scale[i] * micrometres(axes[i].unit.as_deref()?)?;
        (side > 0.0 && side.is_finite()).then_some(side)
    };
    Some([side(Role::Z)?, side(Role::Y)?, side(Role::X)?])
}

/// Micrometres in one `unit` (NGFF's UDUNITS-2 names, and the usual abbreviations).
fn micrometres(unit: &str) -> Option<f64> {
    Some(match unit.to_lowercase().as_str() {
        "angstrom" | "å" => 1e-4,
        "picometer" | "pm" => 1e-6,
        "nanometer" | "nm" => 1e-3,
        "micrometer" | "micron" | "µm" | "μm" | "um" => 1.0,
        "millimeter" | "mm" => 1e3,
        "centimeter" | "cm" => 1e4,
        "decimeter" | "dm" => 1e5,
        "meter" | "m" => 1e6,
        _ => return None,
    })
}
