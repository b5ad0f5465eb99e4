//! The flags of `einmix image` (the pipeline's glue is `cmd/image.rs` and `cmd/analyse.rs`).

use std::path::PathBuf;

use clap::{Args, Subcommand};
use einmix_image::{Background, FrameRange, Metric, ZProject};

use super::Verbosity;

/// `einmix image <COMMAND>`.
#[derive(Debug, Args)]
pub struct ImageArgs {
    #[command(subcommand)]
    pub command: ImageCommand,
}

#[derive(Debug, Subcommand)]
pub enum ImageCommand {
    /// Fit a mixture to one image (the first frame of the file, or --frame N).
    Fit(FitImageArgs),
    /// Track a time-lapse: fit the first frame, warm-start every later one from the previous
    /// with K fixed, re-seed components that empty or collapse.
    Track(TrackArgs),
    /// Track the embedded demo time-lapse (a live yeast mitochondrial network, nellie's sample
    /// data, CC BY 4.0) and write the pictures; needs no data.
    Demo(DemoImageArgs),
    /// Analyse a track over time: spectral statistics per frame, temporal anomalies (a
    /// trailing-window z-score), spatial anomalies (components whose eigenvector rows move
    /// most) and node features for a classifier (docs/analysis.md).
    #[command(visible_alias = "analyze")]
    Analyse(AnalyseArgs),
}

/// `einmix image analyse`.
#[derive(Debug, Args)]
pub struct AnalyseArgs {
    /// A track.npz written by `einmix image track`, its folder, or a folder of cells (with
    /// cells.csv, from --labels): each cell is analysed into OUTDIR/cell_<label>/.
    #[arg(value_name = "TRACK")]
    pub track: PathBuf,
    /// The statistic scored over time: algebraic_connectivity, spectral_gap,
    /// largest_eigenvalue, mean_eigenvalue (OrNet's), mean_distance, mean_nearest_distance.
    #[arg(long, default_value = "algebraic_connectivity", value_parser = parse_statistic)]
    pub statistic: einmix_image::Statistic,
    /// Frames in the trailing window of the z-score (the first WINDOW frames are not scored).
    #[arg(long, default_value_t = 20)]
    pub window: usize,
    /// A frame is anomalous when |z| exceeds this.
    #[arg(long, default_value_t = 2.0)]
    pub threshold: f64,
    /// Components reported as spatial anomalies.
    #[arg(long, default_value_t = 5)]
    pub top_k: usize,
    /// The video the track was made from: draws the chosen frames (--pictures) with every
    /// component's ellipse and a box around the --top-k spatial anomalies (frame_NNNN.png).
    #[arg(long, value_name = "STACK")]
    pub video: Option<PathBuf>,
    /// With --video: positions in the track to draw (default: first, middle, last).
    #[arg(long, value_delimiter = ',', value_name = "LIST", requires = "video")]
    pub pictures: Vec<usize>,
    /// With --video: how its Z slices were treated when it was tracked (none, max).
    #[arg(long, visible_alias = "z", default_value = "none", value_parser = parse_z, requires = "video")]
    pub z_project: ZProject,
    /// With --video: the channel it was tracked on.
    #[arg(long, requires = "video")]
    pub channel: Option<usize>,
    /// Output directory (created if missing).
    #[arg(short, long, value_name = "OUTDIR")]
    pub output: PathBuf,
    /// Replace existing output files.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub verbosity: Verbosity,
}

/// The settings shared by every image command.
#[derive(Debug, Clone, Args)]
pub struct PipelineArgs {
    /// A label image (.tif, .png or .npy, the image's size): nonzero pixels are inside.
    #[arg(long, value_name = "MASK")]
    pub mask: Option<PathBuf>,
    /// Keep only the pixels of this label of the mask.
    #[arg(long, value_name = "LABEL", requires = "mask", allow_negative_numbers = true)]
    pub mask_label: Option<i64>,
    /// Number of components: `auto` (one per local intensity maximum of the first frame) or K
    /// (weighted k-means++).
    #[arg(short = 'k', long, default_value = "auto", value_parser = parse_k)]
    pub k: Components,
    /// Subtract this level from every pixel and ignore the pixels at or below it: a number, or
    /// pQ for the Q-th percentile of each frame (inside the mask). Default: no level to choose;
    /// every pixel goes in whole and a uniform background component learns the floor's share
    /// of each frame (summary.csv's floor_share), with EM or --bayesian alike.
    #[arg(long, value_parser = parse_background, allow_negative_numbers = true)]
    pub background: Option<Background>,
    /// Pixel size: coordinates are (row, col) times it.
    #[arg(long, default_value_t = 1.0)]
    pub pixel_size: f64,
    /// With --z volume: the voxel's sides Z,Y,X; coordinates are (z, row, col) times them
    /// [default: the OME-TIFF's PhysicalSize, else cubes of --pixel-size].
    #[arg(long, value_name = "Z,Y,X", value_parser = parse_voxel_size, allow_negative_numbers = true)]
    pub voxel_size: Option<[f64; 3]>,
    /// Peaks: minimum distance between local maxima, in pixels.
    #[arg(long, default_value_t = 5)]
    pub min_distance: usize,
    /// Peaks: absolute intensity threshold (default: 5 robust standard deviations above the
    /// frame's floor, median + 5 x 1.4826 x MAD of the smoothed frame, and above --background).
    #[arg(long, allow_negative_numbers = true)]
    pub threshold: Option<f64>,
    /// Peaks: standard deviation in pixels of the Gaussian smoothing first applied (0: none).
    #[arg(long, default_value_t = 1.0)]
    pub smooth: f64,
    /// Peaks: also accept maxima within --min-distance of the image border.
    #[arg(long)]
    pub include_border: bool,
    /// Standard deviation, in pixels, of a new component's isotropic covariance.
    #[arg(long, default_value_t = 2.0)]
    pub init_size: f64,
    /// The shape of each component's covariance, as `einmix fit` takes it: full ellipses,
    /// one ellipse shared by all (tied), axis-aligned ellipses (diag) or circles (spherical).
    /// The outputs hold full D x D matrices whatever the kind.
    #[arg(long, default_value = "full", value_parser = super::covariance_type())]
    pub covariance_type: einmix::CovarianceType,
    /// Seed of the k-means++ initialisation (with a numeric -k).
    #[arg(long, default_value_t = 0)]
    pub random_state: u64,
    /// EM convergence threshold on the per-pixel lower bound (with the learned floor, of the
    /// structures: the bound's change divided by their share of the frame).
    #[arg(long, default_value_t = 1e-3)]
    pub tol: f64,
    /// EM iterations per frame at most.
    #[arg(long, default_value_t = 100)]
    pub max_iter: usize,
    /// Added to every covariance's diagonal (default: pixel_size^2 / 12, a pixel's own variance).
    #[arg(long)]
    pub reg_covar: Option<f64>,
    /// Distance between components for the per-frame graphs.
    #[arg(long, default_value = "hellinger", value_parser = parse_metric)]
    pub metric: Metric,
    /// Report emptied or collapsed components without re-seeding them.
    #[arg(long)]
    pub no_reseed: bool,
    /// Leave the component graph's edges off the frame pictures (by default each component is
    /// joined to its 2 nearest by --metric, thicker the closer).
    #[arg(long)]
    pub no_edges: bool,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long)]
    pub threads: Option<usize>,
    /// Fit each frame with the variational mixture (Dirichlet-process prior): -k (or the
    /// peaks) is an upper bound and each frame keeps the components it needs (summary.csv's
    /// effective_k; the pictures draw those).
    #[arg(long)]
    pub bayesian: bool,
    /// With --bayesian: the weight concentration prior alpha_0 > 0 [default: 1/K].
    #[arg(long, requires = "bayesian", allow_negative_numbers = true)]
    pub weight_concentration_prior: Option<f64>,
    /// Output directory (created if missing).
    #[arg(short, long, value_name = "OUTDIR")]
    pub output: PathBuf,
    /// Replace existing output files.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub verbosity: Verbosity,
}

#[derive(Debug, Args)]
pub struct FitImageArgs {
    /// The image: .tif/.tiff (also OME-TIFF), .png or .npy.
    #[arg(value_name = "IMAGE")]
    pub image: PathBuf,
    /// Which frame (time point) of a multi-frame file.
    #[arg(long, default_value_t = 0)]
    pub frame: usize,
    #[command(flatten)]
    pub planes: PlanesArgs,
    #[command(flatten)]
    pub pipeline: PipelineArgs,
}

/// How a time point's planes are read, for `image fit` and `image track` alike.
#[derive(Debug, Clone, Copy, Args)]
pub struct PlanesArgs {
    /// Z slices: `max` projects them (maximum intensity), `volume` fits each time point in
    /// 3-D (z, row, col) with --voxel-size; `none` refuses 3-D data.
    #[arg(long, visible_alias = "z", default_value = "none", value_parser = parse_z)]
    pub z_project: ZProject,
    /// Z slices per time point of a multi-page TIFF without OME metadata or a 3-axis .npy
    /// (Z fastest).
    #[arg(long)]
    pub z_slices: Option<usize>,
    /// The channel (from 0) of a multichannel file (RGB PNG or TIFF, OME-TIFF with several
    /// channels); required for those, which are never averaged.
    #[arg(long)]
    pub channel: Option<usize>,
}

impl PlanesArgs {
    /// The reader's options for these planes and `frames`.
    pub fn read_options(&self, frames: FrameRange) -> einmix_image::ReadOptions {
        einmix_image::ReadOptions {
            z_project: self.z_project,
            z_slices: self.z_slices,
            frames,
            channel: self.channel,
        }
    }
}

#[derive(Debug, Args)]
pub struct TrackArgs {
    /// The time-lapse, read one frame at a time: multi-page .tif/.tiff (also OME-TIFF), .npy
    /// of shape (F, H, W) or (T, Z, H, W), an OME-Zarr store, or a folder of .png/.tif frames
    /// (in name order).
    #[arg(value_name = "STACK")]
    pub stack: PathBuf,
    /// Frames to track, START:STOP:STEP (each part optional).
    #[arg(long, default_value = "::", value_parser = parse_frames)]
    pub frames: FrameRange,
    #[command(flatten)]
    pub planes: PlanesArgs,
    /// Frames (positions in the tracked sequence) to draw (default: first, middle, last).
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub pictures: Vec<usize>,
    /// Update one model across the frames by online EM (one E-step and a step of running
    /// statistics per frame) instead of a warm-started fit to convergence per frame.
    #[arg(long)]
    pub online: bool,
    /// Continue the run stopped (killed, interrupted, or stopped by a bad frame) in OUTDIR
    /// from its last checkpoint; the result is the one an uninterrupted run writes.
    #[arg(long, conflicts_with = "force")]
    pub resume: bool,
    /// Track every labelled cell as its own time-lapse into OUTDIR/cell_<label>/: a 2-D label
    /// image (Cellpose, StarDist, ITK-SNAP), a (T, H, W) stack whose labels follow the cells,
    /// or (Z, Y, X) / (T, Z, Y, X) labels for volumes; OUTDIR/cells.csv lists the cells.
    #[arg(long, value_name = "LABELS", conflicts_with = "mask")]
    pub labels: Option<PathBuf>,
    /// Write a checkpoint at least this often, in seconds (and every 100 frames).
    #[arg(long, default_value_t = 5.0, value_name = "SECONDS")]
    pub checkpoint_every: f64,
    #[command(flatten)]
    pub pipeline: PipelineArgs,
}

#[derive(Debug, Args)]
pub struct DemoImageArgs {
    /// Output directory (created if missing).
    #[arg(short, long, value_name = "OUTDIR", default_value = "einmix-image-demo")]
    pub output: PathBuf,
    /// Replace existing output files.
    #[arg(long)]
    pub force: bool,
    /// Worker threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    #[command(flatten)]
    pub verbosity: Verbosity,
}

/// `-k auto` or `-k K`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Components {
    /// One per local maximum of the first frame.
    Auto,
    /// A fixed number, started by k-means++.
    Fixed(usize),
}

fn parse_k(s: &str) -> Result<Components, String> {
    match s {
        "auto" => Ok(Components::Auto),
        _ => match s.parse::<usize>() {
            Ok(k) if k >= 1 => Ok(Components::Fixed(k)),
            _ => Err("K is `auto` or a whole number >= 1".into()),
        },
    }
}
fn parse_background(s: &str) -> Result<Background, String> {
    s.parse().map_err(|e: einmix_image::Error| e.to_string())
}
fn parse_statistic(s: &str) -> Result<einmix_image::Statistic, String> {
    s.parse().map_err(|e: einmix_image::Error| e.to_string())
}
fn parse_metric(s: &str) -> Result<Metric, String> {
    s.parse().map_err(|e: einmix_image::Error| e.to_string())
}
fn parse_z(s: &str) -> Result<ZProject, String> {
    s.parse().map_err(|e: einmix_image::Error| e.to_string())
}
fn parse_voxel_size(s: &str) -> Result<[f64; 3], String> {
    let sides: Vec<f64> =
        s.split(',').map(|t| t.trim().parse::<f64>()).collect::<Result<_, _>>().map_err(|_| {
            "voxel_size is Z,Y,X: three positive, finite lengths separated by commas".to_string()
        })?;
    let sides: [f64; 3] = sides
        .try_into()
        .map_err(|_| "voxel_size is Z,Y,X: three positive, finite lengths separated by commas".to_string())?;
    einmix_image::Grid::volume(sides).map(|g| g.spacing).map_err(|e| e.to_string())
}
fn parse_frames(s: &str) -> Result<FrameRange, String> {
    s.parse().map_err(|e: einmix_image::Error| e.to_string())
}
