// SPDX-License-Identifier: GPL-2.0

//! Known-answer tests of the core's HKDF and SPDM key schedule with the
//! host backend's HMAC.
//!
//! The HKDF vectors are RFC 5869's (appendix A, SHA-256).  The key
//! schedule vector (SPDM 1.2, SHA-384, AES-256-GCM, fixed DHE secret and
//! transcript hashes) was computed independently with Python's `hmac` and
//! `hashlib` from the formulas of DSP0274 "Key schedule" (BinConcat =
//! length u16 LE || "spdm1.2 " || label || context):
//!
//! ```text
//! dhe = 01 02 .. 30, th1 = a1 * 48, th2 = b2 * 48
//! hs = HMAC(0^48, dhe); req_hs = Expand(hs, BinConcat(48, "req hs data", th1)) ...
//! ```

use spdm::hkdf;
use spdm::{AeadSuite, HashAlgo, KeySchedule, Version};
use spdm_auth::crypto::HostCrypto;

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn hkdf_rfc5869_sha256() {
    let mut c = HostCrypto;
    // Test case 1.
    let ikm = [0x0b; 22];
    let salt = unhex("000102030405060708090a0b0c");
    let info = unhex("f0f1f2f3f4f5f6f7f8f9");
    let prk = hkdf::extract(&mut c, HashAlgo::Sha256, &salt, &ikm).unwrap();
    assert_eq!(
        prk.as_bytes(),
        unhex("077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5").as_slice()
    );
    let mut okm = [0u8; 42];
    hkdf::expand(
        &mut c,
        HashAlgo::Sha256,
        prk.as_bytes(),
        &[&info[..4], &info[4..]],
        &mut okm,
    )
    .unwrap();
    assert_eq!(
        okm.as_slice(),
        unhex(
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"
        )
        .as_slice()
    );
    // Test case 3: no salt (HashLen zeros), no info.
    let prk = hkdf::extract(&mut c, HashAlgo::Sha256, &[0; 32], &ikm).unwrap();
    let mut okm = [0u8; 42];
    hkdf::expand(&mut c, HashAlgo::Sha256, prk.as_bytes(), &[], &mut okm).unwrap();
    assert_eq!(
        okm.as_slice(),
        unhex(
            "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8"
        )
        .as_slice()
    );
    // Longer than 255 hash lengths is refused.
    let mut big = vec![0u8; 255 * 32 + 1];
    assert!(hkdf::expand(&mut c, HashAlgo::Sha256, prk.as_bytes(), &[], &mut big).is_err());
}

#[test]
fn bin_concat_is_byte_exact() {
    let ks = KeySchedule {
        version: Version::V1_3,
        hash: HashAlgo::Sha256,
    };
    let mut out = [0u8; 86];
    let n = ks.bin_concat(12, b"iv", &[], &mut out).unwrap();
    assert_eq!(&out[..n], b"\x0c\x00spdm1.3 iv");
    let n = ks
        .bin_concat(32, b"req hs data", &[0xAB; 32], &mut out)
        .unwrap();
    assert_eq!(&out[..2], &[32, 0]);
    assert_eq!(&out[2..21], b"spdm1.3 req hs data");
    assert_eq!(&out[21..n], &[0xAB; 32]);
}

#[test]
fn key_schedule_spdm12_sha384_known_answer() {
    let mut c = HostCrypto;
    let ks = KeySchedule {
        version: Version::V1_2,
        hash: HashAlgo::Sha384,
    };
    let dhe: Vec<u8> = (1..=48).collect();
    let th1 = [0xA1u8; 48];
    let th2 = [0xB2u8; 48];
    let hs = ks.handshake_secret(&mut c, &dhe).unwrap();
    assert_eq!(hs.as_bytes(), unhex("e64174c689bb335160bd24e716e8b2280fd85bf5277d32840aa09af4872a6bfb91d02569cafaa7f3dddfec54b791287a").as_slice());
    let (req_hs, rsp_hs) = ks.handshake_secrets(&mut c, hs.as_bytes(), &th1).unwrap();
    assert_eq!(req_hs.as_bytes(), unhex("443667d7f4cc6c6bb2136fa6f6a7d89c1d80b0ad1fd61378f87f0f46b94c70afcaffcf7809e57478bfcf8fe800cd6eaa").as_slice());
    assert_eq!(rsp_hs.as_bytes(), unhex("1d94f132c7ec644a00a507ad79fd9662a1ec5cfdbf9288e4bb835815b3a77998f9263d2b77bd7773975c025dffeaef46").as_slice());
    let fk = ks.finished_key(&mut c, req_hs.as_bytes()).unwrap();
    assert_eq!(fk.as_bytes(), unhex("b51a595a7c30e805565fcbcc35380061968a3ac2c6c43848bb0b771ae816a711a28bad37a1eccadee1ac3a12a5f83e8e").as_slice());
    let (key, iv) = ks
        .key_and_iv(&mut c, AeadSuite::Aes256Gcm, rsp_hs.as_bytes())
        .unwrap();
    assert_eq!(
        key.as_bytes(),
        unhex("7834f81efdf3b9ac5beb56038ac320c1bcff7e4be826103c00fd76f6e3a000fa").as_slice()
    );
    assert_eq!(iv.as_slice(), unhex("ceb407569ef008dd61dbb5ad").as_slice());
    let ms = ks.master_secret(&mut c, hs.as_bytes()).unwrap();
    assert_eq!(ms.as_bytes(), unhex("b747bbb506b52bf55647719786d02c026a93fd6e3d0d248e25f439d4610d5edbd315a600d4613a75d08aa3c1abd32726").as_slice());
    let (req_app, _) = ks.data_secrets(&mut c, ms.as_bytes(), &th2).unwrap();
    assert_eq!(req_app.as_bytes(), unhex("aa32524107c92dc97da2d7d5da9b528ccbee5b2df420e03e7f5be71df625f61dbb9eb6ec2f18e9c4ac6e7b7222c7fc8f").as_slice());
    let exp = ks
        .export_master_secret(&mut c, ms.as_bytes(), &th2)
        .unwrap();
    assert_eq!(exp.as_bytes(), unhex("22b61c3cbfb72dd8129c838a56b60e249e4710d36bebb439132af41f88c149a8d64aa4a9264e8488537824f9bde66855").as_slice());
    let upd = ks.updated_secret(&mut c, req_app.as_bytes()).unwrap();
    assert_eq!(upd.as_bytes(), unhex("a34c588f74cdaf3097a593037ee4bf704c84bb77ab6e7076df1c1bc4b2df92698f07f1d5cf88eacf0dd2578232d4a1af").as_slice());
}
