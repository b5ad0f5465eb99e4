//! Story (issue 12, 3-D): `einmix image track|fit --z volume --voxel-size Z,Y,X` fits each time
//! point of a (T, Z, H, W) stack in 3-D and writes the same outputs with D = 3; bad voxel
//! sizes and volumes without slices are messages naming the option.

mod common;

use einmix_io::npz::Npz;
use predicates::str::contains;

/// A (2, 10, 30, 36) uint16 stack: two blobs one above the other (same row and column, 5 z
/// steps apart) on a floor of 10, everything one column to the right at the second time point.
fn volumes_npy() -> Vec<u8> {
    let mut payload = Vec::new();
    for t in 0..2 {
        for z in 0..10 {
            for r in 0..30 {
                for c in 0..36 {
                    let blob = |z0: f64, r0: f64, c0: f64| {
                        // z steps of 2, pixels of 0.5: sigma 2 units along z, 1 unit in the plane.
                        let (dz, dr, dc) =
                            (2.0 * (z as f64 - z0), 0.5 * (r as f64 - r0), 0.5 * (c as f64 - c0 - t as f64));
                        300.0 * (-0.5 * (dz * dz / 4.0 + dr * dr + dc * dc)).exp()
                    };
                    let v = (10.0 + blob(2.5, 14.0, 16.0) + blob(7.5, 14.0, 16.0)).round() as u16;
                    payload.extend_from_slice(&v.to_le_bytes());
                }
            }
        }
    }
    common::npy("<u2", false, "(2, 10, 30, 36)", &payload)
}

#[test]
fn a_stack_of_volumes_is_tracked_in_3d() {
    let dir = common::Dir::new();
    dir.write("v.npy", volumes_npy());
    let args =
        ["image", "track", "v.npy", "--z", "volume", "--voxel-size", "2,0.5,0.5", "--min-distance", "3"];
    dir.einmix(&[&args[..], &["-q", "-o", "t"]].concat()).assert().success();
    let bytes = dir.read("t/track.npz");
    let mut npz = Npz::new(&bytes).expect("an archive");
    let means = npz.array::<f64>("means").unwrap().expect("means");
    assert_eq!(means.shape, [2, 2, 3], "(T, K, D): two components in (z, row, col)");
    let mut zs: Vec<f64> = (0..2).map(|k| means.data[k * 3]).collect();
    zs.sort_by(f64::total_cmp);
    // Blobs at z steps 2.5 and 7.5: 5 and 15 units.
    assert!((zs[0] - 5.0).abs() < 0.1 && (zs[1] - 15.0).abs() < 0.1, "{zs:?}");
    // Row 14 and column 16 (then 17) pixels of 0.5.
    assert!((means.data[1] - 7.0).abs() < 0.05 && (means.data[2] - 8.0).abs() < 0.05, "{:?}", means.data);
    assert!((means.data[6 + 2] - 8.5).abs() < 0.05, "warm-started, one column right: {:?}", means.data);
    let covars = npz.array::<f64>("covars").unwrap().expect("covars");
    assert_eq!(covars.shape, [2, 2, 3, 3]);
    let voxel = npz.array::<f64>("voxel_size").unwrap().expect("voxel_size");
    assert_eq!(voxel.data, [2.0, 0.5, 0.5]);
    assert!(dir.text("t/reseeds.csv").starts_with("frame,component,reason,z,row,col\n"));
    // The pictures: the projection along z above the one along the rows.
    assert!(dir.read("t/frame_0000.png").starts_with(b"\x89PNG"));
    // `image fit` takes one time point.
    let args = ["image", "fit", "v.npy", "--z", "volume", "--frame", "1", "--voxel-size", "2,0.5,0.5"];
    dir.einmix(&[&args[..], &["--min-distance", "3", "-q", "-o", "f"]].concat()).assert().success();
    let bytes = dir.read("f/fit.npz");
    let means = Npz::new(&bytes).unwrap().array::<f64>("means").unwrap().expect("means");
    assert_eq!(means.shape, [1, 2, 3]);
    // The same stack projected along z: the two blobs are one.
    let args = ["image", "fit", "v.npy", "--z", "max", "--pixel-size", "0.5", "--min-distance", "3"];
    dir.einmix(&[&args[..], &["-q", "-o", "p"]].concat()).assert().success();
    let bytes = dir.read("p/fit.npz");
    let means = Npz::new(&bytes).unwrap().array::<f64>("means").unwrap().expect("means");
    assert_eq!(means.shape, [1, 1, 2]);
}

#[test]
fn bad_voxel_sizes_and_flat_volumes_are_refused() {
    let dir = common::Dir::new();
    dir.write("v.npy", volumes_npy());
    let fit = |extra: &[&str]| {
        let mut args = vec!["image", "fit", "v.npy", "-q", "-o", "out"];
        args.extend_from_slice(extra);
        dir.einmix(&args).assert().code(2)
    };
    for bad in ["0,1,1", "1,-2,1", "1,1", "a,b,c", "1,1,inf"] {
        fit(&["--z", "volume", &format!("--voxel-size={bad}")])
            .stderr(contains("voxel_size is Z,Y,X: three positive, finite lengths"));
    }
    fit(&["--voxel-size", "2,1,1"]).stderr(contains("--voxel-size is for volumes: add --z volume"));
    fit(&["--z", "slab"]).stderr(contains("'z_project' should be 'none', 'max' or 'volume'"));
    dir.write("flat.npy", common::npy("<f8", false, "(2, 4, 5)", &[0u8; 320]));
    dir.einmix(&["image", "fit", "flat.npy", "--z", "volume", "-q", "-o", "out"])
        .assert()
        .code(2)
        .stderr(contains("need Z slices, but every time point of this stack has 1"));
    assert!(!dir.path("out/fit.npz").exists(), "nothing written");
}
