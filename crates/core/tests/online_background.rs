//! Story (issue 12): online EM (`partial_fit`) takes the background component too: its running
//! share of the weight is blended like the components' masses, a first step from a given
//! mixture is one EM iteration, the stored state continues exactly, and a stream of batches
//! from clusters on a uniform floor learns the floor's share.

mod common;

use common::rel_diff;
use einmix::{
    Background, BackgroundRegion, CovarianceType, FitOptions, GaussianMixture, Mixture, OnlineState,
};
use ndarray::{array, s, ArrayD, IxDyn};

fn truth() -> Mixture {
    let covs =
        ArrayD::from_shape_vec(IxDyn(&[2, 2, 2]), vec![9.0, 3.0, 3.0, 4.0, 4.0, -2.0, -2.0, 6.0]).unwrap();
    Mixture::from_parameters(
        CovarianceType::Full,
        array![0.5, 0.5].view(),
        array![[20.0, 30.0], [60.0, 70.0]].view(),
        covs.view(),
    )
    .unwrap()
    .with_background(Background::new(vec![0.0, 0.0], vec![100.0, 100.0], 0.4).unwrap())
    .unwrap()
}

fn region() -> BackgroundRegion {
    BackgroundRegion::Box { lower: vec![0.0, 0.0], upper: vec![100.0, 100.0] }
}

#[test]
fn a_first_online_step_from_a_mixture_is_one_em_iteration() {
    for kind in CovarianceType::ALL {
        let (x, _) = truth().sample(3_000, 1);
        let spec = GaussianMixture::new(2).covariance_type(kind).random_state(0).max_iter(3);
        // A start of this kind with the floor: a short fit.
        let start = spec.clone().background(region()).fit(x.view(), None).unwrap().mixture;
        let online = spec.partial_fit_from(x.view(), None, &start).unwrap();
        let em = spec
            .clone()
            .max_iter(1)
            .fit_with(x.view(), None, FitOptions::new().warm_start(&start, f64::NEG_INFINITY))
            .unwrap();
        let (a, b) = (&online.mixture, &em.mixture);
        let bg = |m: &Mixture| m.background().unwrap().weight();
        assert!((bg(a) - bg(b)).abs() <= 1e-12, "{kind}: background {} vs {}", bg(a), bg(b));
        assert!(rel_diff(a.weights().iter(), b.weights().iter()) <= 1e-12, "{kind}");
        assert!(rel_diff(a.means().iter(), b.means().iter()) <= 1e-12, "{kind}");
        assert!(rel_diff(a.covariances().iter(), b.covariances().iter()) <= 1e-10, "{kind}");
        assert!((a.weights().sum() + bg(a) - 1.0).abs() <= 1e-12);
        assert!(
            (online.state.background_share() - bg(a)).abs() < 1e-12,
            "the share is the weight after one step"
        );
    }
}

#[test]
fn a_stream_learns_the_floor_s_share_and_the_stored_state_continues_exactly() {
    let spec = GaussianMixture::new(2).random_state(0).background(region());
    let mut online = None;
    let mut floor = (0usize, 0usize);
    for batch in 0..40u64 {
        let (x, labels) = truth().sample(1_000, 100 + batch);
        floor = (floor.0 + labels.iter().filter(|&&l| l == 2).count(), floor.1 + labels.len());
        online = Some(spec.partial_fit(x.view(), None, online.as_ref()).unwrap());
    }
    let online = online.unwrap();
    let share = floor.0 as f64 / floor.1 as f64;
    let bg = online.mixture.background().unwrap().weight();
    assert!((bg - share).abs() < 0.02, "background weight {bg} vs the floor's share {share}");
    let mut means: Vec<[f64; 2]> = online.mixture.means().outer_iter().map(|r| [r[0], r[1]]).collect();
    means.sort_by(|a, b| a[0].total_cmp(&b[0]));
    for (got, want) in means.iter().zip([[20.0, 30.0], [60.0, 70.0]]) {
        assert!((got[0] - want[0]).abs() < 0.3 && (got[1] - want[1]).abs() < 0.3, "{got:?} vs {want:?}");
    }
    // Without the background, the same stream drags both components wide over the floor.
    let plain = GaussianMixture::new(2).random_state(0);
    let mut no_floor = None;
    for batch in 0..40u64 {
        let (x, _) = truth().sample(1_000, 100 + batch);
        no_floor = Some(plain.partial_fit(x.view(), None, no_floor.as_ref()).unwrap());
    }
    let widest = |m: &Mixture| m.covariances().iter().copied().fold(0.0f64, f64::max);
    assert!(widest(&no_floor.unwrap().mixture) > 10.0 * widest(&online.mixture));

    // The state as flat parts (what Python stores) continues bit for bit.
    let restored = OnlineState::from_parts_with_background(
        &online.mixture,
        online.state.to_parts(),
        online.state.background_share(),
    )
    .unwrap();
    let again = einmix::OnlineFit { mixture: online.mixture.clone(), state: restored, lower_bound: f64::NAN };
    let (x, _) = truth().sample(500, 999);
    let a = spec.partial_fit(x.view(), None, Some(&online)).unwrap();
    let b = spec.partial_fit(x.view(), None, Some(&again)).unwrap();
    assert_eq!(a.mixture.means(), b.mixture.means());
    assert_eq!(a.mixture.background().unwrap().weight(), b.mixture.background().unwrap().weight());
    // A batch reaching beyond the stream's region is explained by the Gaussians there.
    let far = array![[150.0, 150.0], [20.0, 30.0]];
    let step = spec.partial_fit(far.slice(s![.., ..]), None, Some(&online)).unwrap();
    assert_eq!(step.mixture.background().unwrap().lower(), &[0.0, 0.0], "the region stays the first batch's");
    // A background share for a mixture without one is refused.
    let err = OnlineState::from_parts_with_background(&no_floor_mixture(), online.state.to_parts(), 0.3)
        .unwrap_err();
    assert!(err.to_string().contains("background share"), "{err}");
}

fn no_floor_mixture() -> Mixture {
    let t = truth();
    let covs = t.covariances().to_owned();
    Mixture::from_parameters(CovarianceType::Full, array![0.5, 0.5].view(), t.means(), covs.view()).unwrap()
}
