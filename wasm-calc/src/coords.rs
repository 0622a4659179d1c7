//! Coordinate systems of GPS fixes. Phones give WGS-84 from the platform's
//! location API, but the map SDKs used in China (and WeChat's
//! `wx.getLocation` with `gcj02`) give GCJ-02, the mandated obfuscation of
//! WGS-84 that shifts points by a few hundred metres. Traces are measured and
//! kept in WGS-84, so a GCJ-02 trace is converted first: the same journey is
//! then the same trace whichever system the phone sent.
//!
//! The forward transform is the published GCJ-02 algorithm (Krasovsky 1940
//! ellipsoid parameters); the inverse has no closed form and is found by
//! fixed-point iteration to about a millimetre. Outside mainland China's
//! bounding box GCJ-02 equals WGS-84.

use std::f64::consts::PI;

/// Semi-major axis and eccentricity² the algorithm uses.
const A: f64 = 6_378_245.0;
const EE: f64 = 0.006_693_421_622_965_943;

/// The coordinate system of a trace's fixes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum CoordinateSystem {
    /// GPS, the platform location APIs (the default).
    #[default]
    Wgs84,
    /// Chinese map SDKs and WeChat's `gcj02` locations.
    Gcj02,
}

fn outside_china(lat: f64, lon: f64) -> bool {
    !(72.004..=137.8347).contains(&lon) || !(0.8293..=55.8271).contains(&lat)
}

fn shift_lat(x: f64, y: f64) -> f64 {
    let mut r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * libm::sqrt(x.abs());
    r += (20.0 * libm::sin(6.0 * x * PI) + 20.0 * libm::sin(2.0 * x * PI)) * 2.0 / 3.0;
    r += (20.0 * libm::sin(y * PI) + 40.0 * libm::sin(y / 3.0 * PI)) * 2.0 / 3.0;
    r += (160.0 * libm::sin(y / 12.0 * PI) + 320.0 * libm::sin(y * PI / 30.0)) * 2.0 / 3.0;
    r
}

fn shift_lon(x: f64, y: f64) -> f64 {
    let mut r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * libm::sqrt(x.abs());
    r += (20.0 * libm::sin(6.0 * x * PI) + 20.0 * libm::sin(2.0 * x * PI)) * 2.0 / 3.0;
    r += (20.0 * libm::sin(x * PI) + 40.0 * libm::sin(x / 3.0 * PI)) * 2.0 / 3.0;
    r += (150.0 * libm::sin(x / 12.0 * PI) + 300.0 * libm::sin(x / 30.0 * PI)) * 2.0 / 3.0;
    r
}

/// WGS-84 → GCJ-02, `(lat, lon)` in degrees.
pub fn wgs84_to_gcj02(lat: f64, lon: f64) -> (f64, f64) {
    if outside_china(lat, lon) {
        return (lat, lon);
    }
    let d_lat = shift_lat(lon - 105.0, lat - 35.0);
    let d_lon = shift_lon(lon - 105.0, lat - 35.0);
    let rad = lat / 180.0 * PI;
    let magic = 1.0 - EE * libm::sin(rad) * libm::sin(rad);
    let sqrt_magic = libm::sqrt(magic);
    let d_lat = (d_lat * 180.0) / ((A * (1.0 - EE)) / (magic * sqrt_magic) * PI);
    let d_lon = (d_lon * 180.0) / (A / sqrt_magic * libm::cos(rad) * PI);
    (lat + d_lat, lon + d_lon)
}

/// GCJ-02 → WGS-84, `(lat, lon)` in degrees, to about 1e-8° (a millimetre).
pub fn gcj02_to_wgs84(lat: f64, lon: f64) -> (f64, f64) {
    let (mut w_lat, mut w_lon) = (lat, lon);
    for _ in 0..30 {
        let (g_lat, g_lon) = wgs84_to_gcj02(w_lat, w_lon);
        let (e_lat, e_lon) = (g_lat - lat, g_lon - lon);
        w_lat -= e_lat;
        w_lon -= e_lon;
        if e_lat.abs() < 1e-9 && e_lon.abs() < 1e-9 {
            break;
        }
    }
    (w_lat, w_lon)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metres(a: (f64, f64), b: (f64, f64)) -> f64 {
        crate::plausibility::haversine_m(a.0, a.1, b.0, b.1)
    }

    #[test]
    fn gcj02_shifts_points_in_china_by_hundreds_of_metres() {
        // Lanzhou New Area, Beijing, Shenzhen.
        for p in [(36.50, 103.68), (39.9075, 116.3912), (22.5431, 114.0579)] {
            let shifted = wgs84_to_gcj02(p.0, p.1);
            let d = metres(p, shifted);
            assert!((50.0..900.0).contains(&d), "{p:?} moved {d} m");
        }
        // Outside China nothing moves.
        assert_eq!(wgs84_to_gcj02(51.5, -0.12), (51.5, -0.12));
    }

    #[test]
    fn the_inverse_undoes_the_shift() {
        for p in [
            (36.50, 103.68),
            (39.9075, 116.3912),
            (22.5431, 114.0579),
            (45.75, 126.63),
        ] {
            let (g_lat, g_lon) = wgs84_to_gcj02(p.0, p.1);
            let back = gcj02_to_wgs84(g_lat, g_lon);
            assert!(metres(p, back) < 0.01, "{p:?} came back as {back:?}");
        }
    }

    #[test]
    fn lengths_barely_change() {
        // An 8 km commute measures within 0.5 % in either system.
        let (a, b) = ((36.50, 103.68), (36.572, 103.68));
        let (ga, gb) = (wgs84_to_gcj02(a.0, a.1), wgs84_to_gcj02(b.0, b.1));
        let ratio = metres(ga, gb) / metres(a, b);
        assert!((ratio - 1.0).abs() < 0.005, "{ratio}");
    }
}
